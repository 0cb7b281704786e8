// Before any module that declares an entity: the decorators read the metadata API it installs.
import 'reflect-metadata';
import { AuditService } from '../src/audit/audit.service.js';
import { Clock } from '../src/common/clock.js';
import { ConfigError } from '../src/config/app-config.js';
import { UnknownKekError } from '../src/keys/key-encryption.js';
import { loadSigningKeyFile } from '../src/keys/key-material.js';
import { KeyRotation } from '../src/keys/key-rotation.js';
import { keySchedule } from '../src/keys/keys.service.js';
import { SigningKey } from '../src/keys/signing-key.entity.js';
import { runKeyTool } from './key-tool.js';

/**
 * `npm run keys:rotate`: publishes a new signing key that every replica starts signing with after
 * KEY_PUBLISH_AHEAD. Needs DATABASE_URL (on the embedded database use POST /admin/keys/rotate) and
 * the service's KEYS_KEK.
 */
runKeyTool('keys:rotate', async ({ config, dataSource, logger, encryption }) => {
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
});
