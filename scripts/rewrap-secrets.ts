import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ConfigError, loadConfig } from '../src/config/app-config.js';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { resolveKeks } from '../src/keys/kek-source.js';
import { rewrapUnderNewestKek, SIGNING_KEY_SECRETS } from '../src/keys/kek-rewrap.js';
import { KeyEncryption, UnknownKekError } from '../src/keys/key-encryption.js';
import { TOTP_SECRETS } from '../src/mfa/totp-secrets.js';

/**
 * `npm run keys:rewrap`: re-encrypts every stored secret (private signing keys, TOTP secrets) under
 * the first KEK of KEYS_KEK, so that the others can be removed from it. Run it once every replica
 * runs with the new KEYS_KEK (see the README's KEK rotation). Needs DATABASE_URL.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  if (config.database.url === undefined) throw new ConfigError('DATABASE_URL: is required by keys:rewrap');
  const dataSource = await new DataSource(dataSourceOptions(config.database, config.database.url)).initialize();
  try {
    const logger = new Logger('keys:rewrap');
    const encryption = new KeyEncryption(await resolveKeks(config.keys, logger));
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
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
