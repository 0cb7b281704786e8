/** RFC 6749 §5.1 field names. */
export class TokenResponseDto {
  access_token!: string;
  token_type!: 'Bearer';
  /** Seconds until the access token expires. */
  expires_in!: number;
  refresh_token!: string;
  /** Seconds until the refresh token expires if unused (idle limit, capped by the session's end). */
  refresh_expires_in!: number;
}
