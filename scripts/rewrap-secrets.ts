// Before any module that declares an entity: the decorators read the metadata API it installs.
import 'reflect-metadata';
import { ConfigError } from '../src/config/app-config.js';
import { countNotUnderNewestKek, RewrapRefused, rewrapUnderNewestKek, SIGNING_KEY_SECRETS } from '../src/keys/kek-rewrap.js';
import { TOTP_SECRETS } from '../src/mfa/totp-secrets.js';
import { runKeyTool } from './key-tool.js';

const COLUMNS = [SIGNING_KEY_SECRETS, TOTP_SECRETS];

/**
 * `npm run keys:rewrap`: re-encrypts every stored secret (private signing keys, TOTP secrets) under
 * the first KEK of KEYS_KEK, so that the others can be removed from it. Run it once every replica
 * runs with the new KEYS_KEK (see the README's KEK rotation). Needs DATABASE_URL.
 */
runKeyTool('keys:rewrap', async ({ dataSource, logger, encryption }) => {
  const kek = encryption.currentKekId;
  for (const column of COLUMNS) {
    let count: number;
    try {
      count = await rewrapUnderNewestKek(dataSource, encryption, column);
    } catch (error) {
      throw error instanceof RewrapRefused ? new ConfigError(`keys:rewrap stopped: ${error.message}`) : error;
    }
    logger.log(`${column.table}: ${count} re-encrypted under KEK ${kek}`);
  }
  // A replica still on an older KEYS_KEK may have written a secret under an older KEK meanwhile.
  const left = await Promise.all(COLUMNS.map((column) => countNotUnderNewestKek(dataSource, encryption, column)));
  if (left.some((count) => count > 0)) {
    const where = COLUMNS.map((column, i) => `${left[i]} in ${column.table}`).join(', ');
    throw new ConfigError(
      `keys:rewrap: secrets under another KEK than ${kek} were written meanwhile (${where}): is every replica on this KEYS_KEK? Run again once it is`,
    );
  }
  logger.log(`Every stored secret is encrypted under KEK ${kek}: the other KEKs can be removed from KEYS_KEK`);
});
