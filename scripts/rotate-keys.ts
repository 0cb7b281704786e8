import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../src/audit/audit.service.js';
import { Clock } from '../src/common/clock.js';
import { ConfigError, loadConfig } from '../src/config/app-config.js';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { resolveKeks } from '../src/keys/kek-source.js';
import { KeyEncryption, UnknownKekError } from '../src/keys/key-encryption.js';
import { loadSigningKeyFile } from '../src/keys/key-material.js';
import { KeyRotation } from '../src/keys/key-rotation.js';
import { keySchedule } from '../src/keys/keys.service.js';
import { SigningKey } from '../src/keys/signing-key.entity.js';

/**
 * `npm run keys:rotate`: publishes a new signing key that every replica starts signing with after
 * KEY_PUBLISH_AHEAD. Needs DATABASE_URL (the embedded database belongs to the running service; use
 * POST /admin/keys/rotate there) and the service's KEYS_KEK.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  if (config.database.url === undefined) throw new ConfigError('DATABASE_URL: is required by keys:rotate');
  const dataSource = await new DataSource(dataSourceOptions(config.database, config.database.url)).initialize();
  try {
    const logger = new Logger('keys:rotate');
    const encryption = new KeyEncryption(await resolveKeks(config.keys, logger));
    try {
      encryption.assertMatchesStored(await dataSource.getRepository(SigningKey).find({ order: { createdAt: 'ASC' } }));
    } catch (error) {
      throw error instanceof UnknownKekError ? new ConfigError(`KEYS_KEK: ${error.message}; no key was rotated`) : error;
    }
    const audit = new AuditService(dataSource, new Clock());
    const supplied = config.keys.signingKeyFile === undefined ? undefined : await loadSigningKeyFile(config.keys.signingKeyFile);
    const rotation = new KeyRotation(dataSource, encryption, keySchedule(config), audit, undefined, supplied);
    const key = await rotation.rotateNow(new Date(), 'cli');
    logger.log(`Key ${key.kid} is published and signs from ${key.activatesAt.toISOString()}`);
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
