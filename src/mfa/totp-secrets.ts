import type { SealedColumn } from '../keys/kek-rewrap.js';

/** The associated data of a user's TOTP secret: a ciphertext copied onto another user's row does not decrypt. */
export const totpSecretContext = (userId: string): string => `totp:${userId}`;

/** Where the TOTP secrets are kept, encrypted under KEYS_KEK, for `npm run keys:rewrap`. */
export const TOTP_SECRETS: SealedColumn = {
  table: 'user_totp',
  key: 'user_id',
  ciphertext: 'secret_ciphertext',
  context: totpSecretContext,
  describe: (userId) => `the TOTP secret of user ${userId}`,
  whenDamaged: (userId) => `reset that user's second factor (DELETE /admin/users/${userId}/mfa), then run again`,
};
