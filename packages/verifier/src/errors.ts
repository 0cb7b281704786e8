/** Stable codes: match on `error.code`, never on the message. */
export type VerifierErrorCode =
  | 'token_missing'
  | 'token_malformed'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'claim_invalid'
  | 'signature_invalid'
  | 'unknown_key'
  | 'token_revoked'
  | 'insufficient_role'
  | 'jwks_unavailable'
  | 'revocations_stale';

export class VerifierError extends Error {
  override readonly name = 'VerifierError';

  constructor(
    readonly code: VerifierErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** 403 for a missing role, 503 when the verifier cannot know (keys or revocations unavailable), else 401. */
  get status(): 401 | 403 | 503 {
    if (this.code === 'insufficient_role') return 403;
    return this.code === 'jwks_unavailable' || this.code === 'revocations_stale' ? 503 : 401;
  }
}
