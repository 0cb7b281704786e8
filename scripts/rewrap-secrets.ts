// Before any module that declares an entity: the decorators read the metadata API it installs.
import 'reflect-metadata';
import { ConfigError } from '../src/config/app-config.js';
import { rewrapUnderNewestKek, SIGNING_KEY_SECRETS } from '../src/keys/kek-rewrap.js';
import { UnknownKekError } from '../src/keys/key-encryption.js';
import { TOTP_SECRETS } from '../src/mfa/totp-secrets.js';
import { runKeyTool } from './key-tool.js';

/**
 * `npm run keys:rewrap`: re-encrypts every stored secret (private signing keys, TOTP secrets) under
 * the first KEK of KEYS_KEK, so that the others can be removed from it. Run it once every replica
 * runs with the new KEYS_KEK (see the README's KEK rotation). Needs DATABASE_URL.
 */
runKeyTool('keys:rewrap', async ({ dataSource, logger, encryption }) => {
  for (const column of [SIGNING_KEY_SECRETS, TOTP_SECRETS]) {
    let count: number;
    try {
      count = await rewrapUnderNewestKek(dataSource, encryption, column);
    } catch (error) {
      throw error instanceof UnknownKekError ? new ConfigError(`KEYS_KEK: ${error.message}; run again with a KEYS_KEK that holds it`) : error;
    }
    logger.log(`${column.table}: ${count} re-encrypted under KEK ${encryption.currentKekId}`);
  }
  logger.log(`Every stored secret is encrypted under KEK ${encryption.currentKekId}: the other KEKs can be removed from KEYS_KEK`);
});
