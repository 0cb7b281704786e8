import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '@nestjs/common';
import type { AppConfig } from '../config/app-config.js';

/**
 * The KEKs from KEYS_KEK, or in development a generated one kept in a local file so that keys
 * written by one run still decrypt in the next. Config validation refuses the latter in production.
 */
export async function resolveKeks(keys: AppConfig['keys'], logger: Logger): Promise<Buffer[]> {
  if (keys.keks !== undefined) return keys.keks;

  let kek: Buffer;
  try {
    kek = Buffer.from((await readFile(keys.devKekFile, 'utf8')).trim(), 'base64');
  } catch {
    kek = randomBytes(32);
    await mkdir(dirname(keys.devKekFile), { recursive: true });
    await writeFile(keys.devKekFile, kek.toString('base64'), { mode: 0o600 });
  }
  if (kek.length !== 32) throw new Error(`${keys.devKekFile} does not hold a base64 32-byte key; delete it or set KEYS_KEK`);
  logger.warn(
    `KEYS_KEK is not set: private signing keys are encrypted under a DEVELOPMENT key-encryption key kept in ${keys.devKekFile}. ` +
      'Set KEYS_KEK (32 random bytes, base64) for anything but local development.',
  );
  return [kek];
}
