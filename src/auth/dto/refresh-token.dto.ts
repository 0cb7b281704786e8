import { IsOptional, IsString } from 'class-validator';

/** Optional only because cookie mode may carry the token instead; a malformed string is a 401. */
export class RefreshTokenDto {
  @IsOptional()
  @IsString()
  refresh_token?: string;
}
