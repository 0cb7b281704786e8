import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactDatabaseUrl, redactSmtpUrl, withDatabaseUrl } from './app-config.js';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});

    expect(config.port).toBe(3000);
    expect(config.nodeEnv).toBe('development');
    expect(config.database.url).toBeUndefined();
    expect(config.database.poolSize).toBe(10);
    expect(config.argon2).toEqual({ memoryCostKib: 19456, timeCost: 2, parallelism: 1 });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' }).port).toBe(3000);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['DATABASE_POOL_SIZE', '0'],
    ['NODE_ENV', 'staging'],
    ['LOG_LEVEL', 'loud'],
    ['ARGON2_MEMORY_COST_KIB', '1024'],
    ['RATE_LIMIT_IPV6_PREFIX', '16'],
    ['LOGIN_ACCOUNT_GUESSES_PER_HOUR', '0'],
    ['HTTP_MAX_CONNECTIONS', '0'],
  ])('names %s when its value %j is bad', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`\\b${name}\\b`));
  });

  it('lists every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'x', DATABASE_POOL_SIZE: 'y' })).toThrow(/PORT[\s\S]*DATABASE_POOL_SIZE/);
  });

  it.each(['DATABASE_URL', 'JWT_ISSUER', 'KEYS_KEK', 'SMTP_URL'])('requires %s in production instead of a development default', (name) => {
    const production = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://db:5432/auth',
      JWT_ISSUER: 'https://auth.example.com',
      KEYS_KEK: Buffer.alloc(32, 1).toString('base64'),
      SMTP_URL: 'smtps://mailer:secret@smtp.example.com:465',
    };
    expect(loadConfig(production).nodeEnv).toBe('production');
    expect(() => loadConfig({ ...production, [name]: undefined })).toThrow(new RegExp(`${name}: is required when NODE_ENV=production`));
  });

  it('reads token lifetimes and several KEKs, newest first', () => {
    const newer = Buffer.alloc(32, 2);
    const older = Buffer.alloc(32, 1);
    const config = loadConfig({ ACCESS_TOKEN_TTL: '600', KEYS_KEK: `${newer.toString('base64')}, ${older.toString('base64')}` });

    expect(config.tokens.accessTokenTtlSeconds).toBe(600);
    expect(config.tokens.issuer).toBe('http://localhost:3000');
    expect(config.keys.keks).toEqual([newer, older]);
  });

  it.each([
    ['KEYS_KEK', 'c2hvcnQ='],
    ['REFRESH_TOKEN_COOKIE', 'yes'],
    ['TRUST_PROXY', 'everyone'],
    ['JWT_ISSUER', 'not a url'],
  ])('names %s when its value %j is bad', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`\\b${name}\\b`));
  });

  it('defaults DATABASE_DIRECT_URL to DATABASE_URL, and takes a separate direct address (a pooler in DATABASE_URL)', () => {
    expect(loadConfig({}).database.directUrl).toBeUndefined();
    expect(loadConfig({ DATABASE_URL: 'postgres://db:5432/auth' }).database.directUrl).toBe('postgres://db:5432/auth');
    const pooled = loadConfig({ DATABASE_URL: 'postgres://pgbouncer:6432/auth', DATABASE_DIRECT_URL: 'postgres://db:5432/auth' });
    expect(pooled.database).toMatchObject({ url: 'postgres://pgbouncer:6432/auth', directUrl: 'postgres://db:5432/auth' });
  });

  it('refuses DATABASE_DIRECT_URL without DATABASE_URL, and a direct URL that is not postgres', () => {
    expect(() => loadConfig({ DATABASE_DIRECT_URL: 'postgres://db:5432/auth' })).toThrow(/DATABASE_DIRECT_URL: needs DATABASE_URL/);
    expect(() => loadConfig({ DATABASE_URL: 'postgres://db/auth', DATABASE_DIRECT_URL: 'mysql://db/auth' })).toThrow(/\bDATABASE_DIRECT_URL\b/);
  });

  it('points both connection kinds at the embedded database once it runs', () => {
    const config = withDatabaseUrl(loadConfig({}), 'postgres://postgres@127.0.0.1:5499/postgres');
    expect(config.database).toMatchObject({
      url: 'postgres://postgres@127.0.0.1:5499/postgres',
      directUrl: 'postgres://postgres@127.0.0.1:5499/postgres',
    });
  });

  it('reads the connection limits and refuses an idle timeout the slowest query could outlast', () => {
    expect(loadConfig({}).http).toMatchObject({ maxConnections: 8192, idleTimeoutMs: 10_000, keepAliveTimeoutMs: 72_000, requestTimeoutMs: 30_000 });
    expect(() => loadConfig({ HTTP_IDLE_TIMEOUT: '5', DATABASE_STATEMENT_TIMEOUT_MS: '5000' })).toThrow(/HTTP_IDLE_TIMEOUT/);
  });

  it('refuses an idle refresh lifetime longer than the absolute one', () => {
    expect(() => loadConfig({ REFRESH_TOKEN_IDLE_TTL: '7200', REFRESH_TOKEN_ABSOLUTE_TTL: '3600' })).toThrow(/REFRESH_TOKEN_IDLE_TTL/);
  });
});

describe('redactDatabaseUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactDatabaseUrl('postgres://auth:s3cret@db:5432/auth')).toBe('postgres://auth:***@db:5432/auth');
    expect(redactDatabaseUrl('postgres://db:5432/auth')).toBe('postgres://db:5432/auth');
  });
});

describe('FIRST_PARTY_CLIENT_ID', () => {
  const digest = 'a'.repeat(64);

  it('defaults to JWT_AUDIENCE and takes a value of its own', () => {
    expect(loadConfig({ JWT_AUDIENCE: 'api' }).tokens.firstPartyClientId).toBe('api');
    expect(loadConfig({ FIRST_PARTY_CLIENT_ID: 'web-app' }).tokens.firstPartyClientId).toBe('web-app');
  });

  it('refuses spaces, and a service client of INTROSPECTION_CLIENTS bearing the same id', () => {
    expect(() => loadConfig({ FIRST_PARTY_CLIENT_ID: 'web app' })).toThrow(/FIRST_PARTY_CLIENT_ID/);
    expect(() => loadConfig({ INTROSPECTION_CLIENTS: `auth-service:${digest}` })).toThrow(
      /INTROSPECTION_CLIENTS: must not name the first-party client id/,
    );
    expect(() => loadConfig({ FIRST_PARTY_CLIENT_ID: 'web', INTROSPECTION_CLIENTS: `auth-service:${digest}` })).not.toThrow();
  });

  it('reads the mail settings: PUBLIC_URL defaults to the issuer, MAIL_FROM to no-reply at its host, lifetimes per the contract', () => {
    const defaults = loadConfig({ JWT_ISSUER: 'https://auth.example.com' }).mail;
    expect(defaults).toEqual({
      smtpUrl: undefined,
      from: 'auth-service <no-reply@auth.example.com>',
      publicUrl: 'https://auth.example.com/',
      passwordResetTtlSeconds: 1800,
      emailVerificationTtlSeconds: 86400,
      requireVerifiedEmail: false,
    });
    const own = loadConfig({
      SMTP_URL: 'smtp://user:p%40ss@mail.internal:2525',
      MAIL_FROM: 'Example <accounts@example.com>',
      PUBLIC_URL: 'https://app.example.com/account',
      PASSWORD_RESET_TTL: '600',
      EMAIL_VERIFICATION_TTL: '3600',
      REQUIRE_VERIFIED_EMAIL: 'true',
    }).mail;
    expect(own).toMatchObject({ from: 'Example <accounts@example.com>', publicUrl: 'https://app.example.com/account/', requireVerifiedEmail: true });
    expect(redactSmtpUrl(own.smtpUrl!)).toBe('smtp://user:***@mail.internal:2525');
  });

  it.each([
    ['SMTP_URL', 'http://mail.example.com'],
    ['MAIL_FROM', 'not an address'],
    ['PUBLIC_URL', 'ftp://app.example.com'],
    ['PASSWORD_RESET_TTL', '10'],
    ['EMAIL_VERIFICATION_TTL', 'soon'],
    ['REQUIRE_VERIFIED_EMAIL', 'yes'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}:`));
  });
});
