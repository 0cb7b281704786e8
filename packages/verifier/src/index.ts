export { VerifierError, type VerifierErrorCode } from './errors.js';
export { accessTokenHook, authenticateRequest, requireAccessToken, type GuardOptions } from './middleware.js';
export { createVerifier, type RevocationOptions, type Verifier, type VerifierOptions, type VerifiedToken } from './verifier.js';
