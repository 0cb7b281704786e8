import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommonModule } from '../src/common/common.module.js';
import { ConfigError, loadConfig, type AppConfig } from '../src/config/app-config.js';
import { ConfigModule } from '../src/config/config.module.js';
import { DatabaseModule } from '../src/database/database.module.js';
import { MetricsModule } from '../src/metrics/metrics.module.js';
import { UsersModule } from '../src/users/users.module.js';
import { normalizeEmail } from '../src/common/email.js';
import { passwordLength, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../src/users/password-policy.js';
import { UsersService } from '../src/users/users.service.js';

/** Only what creating a user needs: no signing keys, so no KEYS_KEK, and no HTTP. */
@Module({})
class AdminCliModule {
  static forRoot(config: AppConfig): DynamicModule {
    return { module: AdminCliModule, imports: [ConfigModule.forRoot(config), CommonModule, MetricsModule, DatabaseModule, UsersModule] };
  }
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text.replace(/\r?\n$/, '');
}

/**
 * `npm run admin:create -- --email ops@example.com`: creates an admin account. The password comes
 * from ADMIN_PASSWORD, else from standard input when something is piped in; otherwise (a terminal,
 * or `kubectl exec` without `-i`, whose input is empty) a random one is generated and printed once.
 * Needs DATABASE_URL (the embedded database belongs to the running service).
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { email: { type: 'string' } } });
  if (values.email === undefined) throw new ConfigError('usage: [ADMIN_PASSWORD=...] npm run admin:create -- --email <address>  [< password-file]');
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'error' });
  if (config.database.url === undefined) throw new ConfigError('DATABASE_URL: is required by admin:create');

  const supplied = process.env.ADMIN_PASSWORD || (process.stdin.isTTY ? '' : await readStdin());
  const generated = supplied === '' ? randomBytes(18).toString('base64url') : undefined;
  const password = generated ?? supplied;
  const length = passwordLength(password);
  if (length < PASSWORD_MIN_LENGTH || length > PASSWORD_MAX_LENGTH) {
    throw new ConfigError(`the password must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`);
  }

  const app = await NestFactory.createApplicationContext(AdminCliModule.forRoot(config), { logger: ['error'], abortOnError: false });
  try {
    const outcome = await app.get(UsersService).createAdmin(normalizeEmail(values.email), password, { onlyIfNoAdmin: false, via: 'cli' });
    if (outcome === 'email_taken') throw new ConfigError(`an account with the email ${values.email} already exists; it is not promoted`);
    console.log(`Admin ${normalizeEmail(values.email)} created.`);
    if (generated !== undefined) console.log(`Password (shown once): ${generated}`);
  } finally {
    await app.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
