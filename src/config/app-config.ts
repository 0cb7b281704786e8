import { plainToInstance, Transform } from 'class-transformer';
import { IsBoolean, IsEmail, IsIn, IsInt, IsOptional, IsString, IsUrl, Length, Matches, Max, Min, validateSync } from 'class-validator';
import { HasCanonicalEmail, normalizeEmail } from '../common/email.js';
import { DEFAULT_HOST, DEFAULT_PORT } from './listen-address.js';

export const APP_CONFIG = Symbol('APP_CONFIG');

export type NodeEnv = 'development' | 'test' | 'production';

export interface AppConfig {
  readonly nodeEnv: NodeEnv;
  readonly port: number;
  readonly host: string;
  readonly logLevel: string;
  /** The Prometheus listener's own port (never the API port); 0 picks a free one (tests). */
  readonly metricsPort: number;
  /** Fastify's `trustProxy`: false, 'loopback', or a list of addresses and CIDRs. */
  readonly trustProxy: false | string | string[];
  readonly http: {
    /** Browser origins allowed by CORS (and to send cookie-mode refresh/logout); empty = CORS off. */
    readonly corsOrigins: string[];
    /** Strict-Transport-Security max-age; 0 sends no HSTS header. */
    readonly hstsMaxAgeSeconds: number;
    /** Open connections beyond which new ones are closed at once (existing clients keep theirs). */
    readonly maxConnections: number;
    /** A connection silent this long is closed: one that never sends a request, or stalls in one. */
    readonly idleTimeoutMs: number;
    /** How long an idle keep-alive connection stays open between requests. */
    readonly keepAliveTimeoutMs: number;
    /** The longest time a client may take to send one whole request (headers and body). */
    readonly requestTimeoutMs: number;
  };
  readonly throttling: {
    readonly ipRequestsPerMinute: number;
    /** IPv6 clients are counted per network of this many bits (IPv4 per address). */
    readonly ipv6PrefixLength: number;
    /** Failed logins of one client on one account before that client's backoff starts. */
    readonly loginFreeFailures: number;
    readonly loginMaxBackoffSeconds: number;
    /** Failed logins an hour that clients other than the account's trusted devices share. */
    readonly loginAccountGuessesPerHour: number;
    /** How long a device that logged in stays trusted by the account. */
    readonly trustedDeviceTtlSeconds: number;
  };
  readonly database: {
    /** Unset means "start the embedded Postgres"; main.ts fills it in before the app boots. May be a transaction pooler. */
    readonly url: string | undefined;
    /**
     * A direct (unpooled) connection for what needs a session of its own: LISTEN and the migration
     * run. Unset means `url` (DATABASE_DIRECT_URL defaults to DATABASE_URL).
     */
    readonly directUrl: string | undefined;
    readonly embeddedDataDir: string;
    readonly poolSize: number;
    readonly statementTimeoutMs: number;
    /** How long boot waits for the database to answer before giving up. */
    readonly startupTimeoutSeconds: number;
  };
  readonly argon2: {
    readonly memoryCostKib: number;
    readonly timeCost: number;
    readonly parallelism: number;
  };
  readonly tokens: {
    readonly issuer: string;
    readonly audience: string;
    readonly accessTokenTtlSeconds: number;
    readonly clockSkewSeconds: number;
    readonly refreshIdleTtlSeconds: number;
    readonly refreshAbsoluteTtlSeconds: number;
    readonly refreshReuseGraceSeconds: number;
    /** Also hand the refresh token out as an HttpOnly cookie scoped to /auth, and accept it from there. */
    readonly refreshCookie: boolean;
    /** Safety net under LISTEN/NOTIFY: how often each replica reloads the revocation list. */
    readonly revocationResyncSeconds: number;
    /**
     * The `client_id` of user tokens (RFC 9068 §2.2): sessions opened by /auth/login belong to
     * this first-party public client, which may refresh and revoke them with only its id.
     */
    readonly firstPartyClientId: string;
  };
  readonly retention: {
    /** How long an ended (revoked or expired) session and its token chain are kept. */
    readonly sessionSeconds: number;
    /** How long audit events are kept. */
    readonly auditSeconds: number;
  };
  /** Account recovery and verification mails (issue 18). */
  readonly mail: {
    /** smtp:// or smtps:// with credentials; undefined: mails are written to the log (refused in production). */
    readonly smtpUrl: string | undefined;
    readonly from: string;
    /** Base of the links in mails (the web app's pages that post the token back); ends with "/". */
    readonly publicUrl: string;
    readonly passwordResetTtlSeconds: number;
    readonly emailVerificationTtlSeconds: number;
    /** Login is refused (403 email_not_verified, after the password matched) until the email is verified. */
    readonly requireVerifiedEmail: boolean;
  };
  /** The second factor (issue 19). */
  readonly mfa: {
    /** ADMIN_REQUIRE_MFA: admin routes refuse access tokens whose `amr` lacks `otp`. */
    readonly adminRequireMfa: boolean;
    /** How long the mfa_token of a login's first step stays usable, seconds. */
    readonly challengeTtlSeconds: number;
  };
  /** Service credentials for POST /auth/introspect: client id -> SHA-256 of its secret. */
  readonly introspectionClients: ReadonlyMap<string, Buffer>;
  /** An admin to create at start when none exists (BOOTSTRAP_ADMIN_EMAIL/PASSWORD). */
  readonly bootstrapAdmin: { readonly email: string; readonly password: string } | undefined;
  readonly keys: {
    /** Key-encryption keys, newest first; undefined means "use the development KEK file". */
    readonly keks: Buffer[] | undefined;
    readonly devKekFile: string;
    /** An operator-supplied RSA private key (PEM) to sign with instead of generated keys. */
    readonly signingKeyFile: string | undefined;
    readonly rotationIntervalSeconds: number;
    /** How long a new key is published in the JWKS before it signs; longer than any verifier's cache. */
    readonly publishAheadSeconds: number;
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const toInt = ({ value }: { value: unknown }): unknown => (typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value);

/** An integer variable, at least `min` and at most `max`; the text of the environment is converted first. */
function IntegerVariable(min: number, max?: number): PropertyDecorator {
  const decorators = [Transform(toInt), IsInt(), Min(min), ...(max === undefined ? [] : [Max(max)])];
  return (target, property) => decorators.forEach((decorate) => decorate(target, property));
}

const toBoolean = ({ value }: { value: unknown }): unknown => (value === 'true' ? true : value === 'false' ? false : value);

/** The environment as the service reads it; each property is named after its variable. */
class EnvironmentVariables {
  @IsIn(['development', 'test', 'production'])
  NODE_ENV: NodeEnv = 'development';

  @IntegerVariable(1, 65535)
  PORT = DEFAULT_PORT;

  @IsString()
  HOST = DEFAULT_HOST;

  @IntegerVariable(0, 65535)
  METRICS_PORT = 9464;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @IsOptional()
  @Matches(/^(loopback|[0-9a-fA-F.:/]+(,\s*[0-9a-fA-F.:/]+)*)$/, {
    message: 'TRUST_PROXY must be "loopback" or a comma-separated list of addresses and CIDRs',
  })
  TRUST_PROXY?: string;

  @IsOptional()
  @Matches(/^https?:\/\/[^\s,/]+(\s*,\s*https?:\/\/[^\s,/]+)*$/, {
    message: 'CORS_ORIGINS must be a comma-separated list of origins such as https://app.example.com (no wildcard)',
  })
  CORS_ORIGINS?: string;

  @IntegerVariable(0)
  HSTS_MAX_AGE = 31_536_000;

  @IntegerVariable(1)
  HTTP_MAX_CONNECTIONS = 8192;

  @IntegerVariable(1, 3600)
  HTTP_IDLE_TIMEOUT = 10;

  @IntegerVariable(1, 3600)
  HTTP_KEEP_ALIVE_TIMEOUT = 72;

  @IntegerVariable(1, 3600)
  HTTP_REQUEST_TIMEOUT = 30;

  @IntegerVariable(1)
  RATE_LIMIT_IP_PER_MINUTE = 60;

  @IntegerVariable(1, 100)
  LOGIN_FREE_FAILURES = 5;

  @IntegerVariable(1, 86400)
  LOGIN_MAX_BACKOFF = 600;

  @IntegerVariable(1, 10_000)
  LOGIN_ACCOUNT_GUESSES_PER_HOUR = 20;

  @IntegerVariable(3600)
  TRUSTED_DEVICE_TTL = 7_776_000;

  @IntegerVariable(32, 128)
  RATE_LIMIT_IPV6_PREFIX = 64;

  @IsOptional()
  @IsUrl({ protocols: ['postgres', 'postgresql'], require_tld: false, require_protocol: true })
  DATABASE_URL?: string;

  @IsOptional()
  @IsUrl({ protocols: ['postgres', 'postgresql'], require_tld: false, require_protocol: true })
  DATABASE_DIRECT_URL?: string;

  @IsString()
  EMBEDDED_DATABASE_DIR = '.data/pglite';

  @IntegerVariable(1, 200)
  DATABASE_POOL_SIZE = 10;

  @IntegerVariable(100)
  DATABASE_STATEMENT_TIMEOUT_MS = 5000;

  @IntegerVariable(1, 3600)
  DATABASE_STARTUP_TIMEOUT = 60;

  // OWASP's argon2id baseline; lower values are refused so a typo cannot weaken every stored hash.
  @IntegerVariable(19456)
  ARGON2_MEMORY_COST_KIB = 19456;

  @IntegerVariable(2)
  ARGON2_TIME_COST = 2;

  @IntegerVariable(1, 16)
  ARGON2_PARALLELISM = 1;

  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  JWT_ISSUER?: string;

  @IsString()
  @Matches(/^\S+$/, { message: 'JWT_AUDIENCE must be a non-empty string without spaces' })
  JWT_AUDIENCE = 'auth-service';

  // Unset: JWT_AUDIENCE. RFC 6749 Appendix A.1: a client id is visible ASCII (space excluded here too).
  @IsOptional()
  @Matches(/^[\x21-\x7E]{1,255}$/, { message: 'FIRST_PARTY_CLIENT_ID must be 1 to 255 visible ASCII characters without spaces' })
  FIRST_PARTY_CLIENT_ID?: string;

  @IntegerVariable(60, 86400)
  ACCESS_TOKEN_TTL = 900;

  @IntegerVariable(0, 300)
  JWT_CLOCK_SKEW = 30;

  @IntegerVariable(60)
  REFRESH_TOKEN_IDLE_TTL = 1_209_600;

  @IntegerVariable(60)
  REFRESH_TOKEN_ABSOLUTE_TTL = 2_592_000;

  @IntegerVariable(0, 60)
  REFRESH_REUSE_GRACE = 10;

  @Transform(toBoolean)
  @IsBoolean()
  REFRESH_TOKEN_COOKIE = false;

  @IntegerVariable(1, 3600)
  REVOCATION_RESYNC_INTERVAL = 30;

  @IntegerVariable(1)
  SESSION_RETENTION = 2_592_000;

  @IntegerVariable(1)
  AUDIT_RETENTION = 34_560_000;

  @IsOptional()
  @Matches(/^[A-Za-z0-9+/]{43}=(\s*,\s*[A-Za-z0-9+/]{43}=)*$/, {
    message: 'KEYS_KEK must be one or more comma-separated base64 values of exactly 32 bytes, newest first',
  })
  KEYS_KEK?: string;

  @IsString()
  DEV_KEYS_KEK_FILE = '.data/keys-kek';

  @IsOptional()
  @IsString()
  SIGNING_KEY_FILE?: string;

  @IsOptional()
  @Matches(/^[A-Za-z0-9._-]+:[0-9a-f]{64}(\s*,\s*[A-Za-z0-9._-]+:[0-9a-f]{64})*$/, {
    message: 'INTROSPECTION_CLIENTS must be a comma-separated list of client_id:sha256-hex-of-secret',
  })
  INTROSPECTION_CLIENTS?: string;

  @IsOptional()
  @IsEmail()
  @HasCanonicalEmail({ hostName: true })
  BOOTSTRAP_ADMIN_EMAIL?: string;

  @IsOptional()
  @IsString()
  @Length(8, 1024)
  BOOTSTRAP_ADMIN_PASSWORD?: string;

  @IntegerVariable(3600)
  KEY_ROTATION_INTERVAL = 2_592_000;

  // Above the one-minute margin the JWKS Cache-Control keeps (see jwksMaxAgeSeconds).
  @IntegerVariable(120)
  KEY_PUBLISH_AHEAD = 1800;

  @IsOptional()
  @IsUrl({ protocols: ['smtp', 'smtps'], require_tld: false, require_protocol: true }, { message: 'SMTP_URL must be an smtp:// or smtps:// URL' })
  SMTP_URL?: string;

  // A display name may come first: "Example <no-reply@example.com>".
  @IsOptional()
  @Matches(/^[^\r\n]*<?[^\s<>@]+@[^\s<>@]+>?$/, { message: 'MAIL_FROM must be an address, optionally with a display name: Name <a@b.example>' })
  MAIL_FROM?: string;

  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  PUBLIC_URL?: string;

  @IntegerVariable(60, 86400)
  PASSWORD_RESET_TTL = 1800;

  @IntegerVariable(60, 2_592_000)
  EMAIL_VERIFICATION_TTL = 86400;

  @Transform(toBoolean)
  @IsBoolean()
  REQUIRE_VERIFIED_EMAIL = false;

  @Transform(toBoolean)
  @IsBoolean()
  ADMIN_REQUIRE_MFA = false;

  @IntegerVariable(30, 1800)
  MFA_TOKEN_TTL = 300;
}

/** Variables whose empty value means "unset", as shells and compose files often leave them. */
function withoutEmptyValues(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''));
}

function crossFieldProblems(vars: EnvironmentVariables): string[] {
  const problems: string[] = [];
  if (vars.REFRESH_TOKEN_IDLE_TTL > vars.REFRESH_TOKEN_ABSOLUTE_TTL) {
    problems.push('REFRESH_TOKEN_IDLE_TTL: must not exceed REFRESH_TOKEN_ABSOLUTE_TTL');
  }
  if ((vars.BOOTSTRAP_ADMIN_EMAIL === undefined) !== (vars.BOOTSTRAP_ADMIN_PASSWORD === undefined)) {
    problems.push('BOOTSTRAP_ADMIN_EMAIL: must be set together with BOOTSTRAP_ADMIN_PASSWORD');
  }
  if (vars.KEY_PUBLISH_AHEAD >= vars.KEY_ROTATION_INTERVAL) {
    problems.push('KEY_PUBLISH_AHEAD: must be shorter than KEY_ROTATION_INTERVAL');
  }
  if (vars.HTTP_IDLE_TIMEOUT * 1000 <= vars.DATABASE_STATEMENT_TIMEOUT_MS + 1000) {
    // A request waits silently for its queries; the connection must outlive the slowest one.
    problems.push('HTTP_IDLE_TIMEOUT: must exceed DATABASE_STATEMENT_TIMEOUT_MS by more than a second');
  }
  const firstPartyClientId = vars.FIRST_PARTY_CLIENT_ID ?? vars.JWT_AUDIENCE;
  if (vars.INTROSPECTION_CLIENTS?.split(',').some((entry) => entry.trim().split(':')[0] === firstPartyClientId)) {
    problems.push(
      `INTROSPECTION_CLIENTS: must not name the first-party client id "${firstPartyClientId}" (FIRST_PARTY_CLIENT_ID, default JWT_AUDIENCE)`,
    );
  }
  if (vars.DATABASE_DIRECT_URL !== undefined && vars.DATABASE_URL === undefined) {
    problems.push('DATABASE_DIRECT_URL: needs DATABASE_URL as well (without it the embedded database is used)');
  }
  if (vars.NODE_ENV === 'production') {
    // Development conveniences that would be silent misconfigurations in production.
    if (vars.DATABASE_URL === undefined) {
      problems.push('DATABASE_URL: is required when NODE_ENV=production (the embedded database is for development only)');
    }
    if (vars.JWT_ISSUER === undefined) {
      problems.push('JWT_ISSUER: is required when NODE_ENV=production (the default names localhost)');
    }
    if (vars.KEYS_KEK === undefined) {
      problems.push('KEYS_KEK: is required when NODE_ENV=production (the generated development KEK lives in a local file)');
    }
    if (vars.SMTP_URL === undefined) {
      problems.push('SMTP_URL: is required when NODE_ENV=production (without it recovery and verification mails are only logged)');
    }
  }
  return problems;
}

function parseTrustProxy(value: string | undefined): AppConfig['trustProxy'] {
  if (value === undefined) return false;
  return value === 'loopback' ? value : value.split(',').map((entry) => entry.trim());
}

function mailConfig(vars: EnvironmentVariables): AppConfig['mail'] {
  const issuer = vars.JWT_ISSUER ?? `http://localhost:${vars.PORT}`;
  const publicUrl = vars.PUBLIC_URL ?? issuer;
  return {
    smtpUrl: vars.SMTP_URL,
    from: vars.MAIL_FROM ?? `auth-service <no-reply@${new URL(publicUrl).hostname}>`,
    publicUrl: publicUrl.endsWith('/') ? publicUrl : `${publicUrl}/`,
    passwordResetTtlSeconds: vars.PASSWORD_RESET_TTL,
    emailVerificationTtlSeconds: vars.EMAIL_VERIFICATION_TTL,
    requireVerifiedEmail: vars.REQUIRE_VERIFIED_EMAIL,
  };
}

/** An SMTP URL may carry a password; this is the form that may appear in a log line. */
export function redactSmtpUrl(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
}

/**
 * Reads and validates the configuration once. Throws a ConfigError naming every bad variable,
 * so a misconfigured service stops at boot instead of failing on its first request.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const vars = plainToInstance(EnvironmentVariables, withoutEmptyValues(env));
  const problems = validateSync(vars).map((error) => `${error.property}: ${Object.values(error.constraints ?? {}).join('; ')}`);
  if (problems.length === 0) problems.push(...crossFieldProblems(vars));
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }

  return {
    nodeEnv: vars.NODE_ENV,
    port: vars.PORT,
    host: vars.HOST,
    logLevel: vars.LOG_LEVEL,
    metricsPort: vars.METRICS_PORT,
    trustProxy: parseTrustProxy(vars.TRUST_PROXY),
    http: {
      corsOrigins: vars.CORS_ORIGINS?.split(',').map((origin) => origin.trim()) ?? [],
      hstsMaxAgeSeconds: vars.HSTS_MAX_AGE,
      maxConnections: vars.HTTP_MAX_CONNECTIONS,
      idleTimeoutMs: vars.HTTP_IDLE_TIMEOUT * 1000,
      keepAliveTimeoutMs: vars.HTTP_KEEP_ALIVE_TIMEOUT * 1000,
      requestTimeoutMs: vars.HTTP_REQUEST_TIMEOUT * 1000,
    },
    throttling: {
      ipRequestsPerMinute: vars.RATE_LIMIT_IP_PER_MINUTE,
      loginFreeFailures: vars.LOGIN_FREE_FAILURES,
      loginMaxBackoffSeconds: vars.LOGIN_MAX_BACKOFF,
      ipv6PrefixLength: vars.RATE_LIMIT_IPV6_PREFIX,
      loginAccountGuessesPerHour: vars.LOGIN_ACCOUNT_GUESSES_PER_HOUR,
      trustedDeviceTtlSeconds: vars.TRUSTED_DEVICE_TTL,
    },
    database: {
      url: vars.DATABASE_URL,
      directUrl: vars.DATABASE_DIRECT_URL ?? vars.DATABASE_URL,
      embeddedDataDir: vars.EMBEDDED_DATABASE_DIR,
      poolSize: vars.DATABASE_POOL_SIZE,
      statementTimeoutMs: vars.DATABASE_STATEMENT_TIMEOUT_MS,
      startupTimeoutSeconds: vars.DATABASE_STARTUP_TIMEOUT,
    },
    argon2: {
      memoryCostKib: vars.ARGON2_MEMORY_COST_KIB,
      timeCost: vars.ARGON2_TIME_COST,
      parallelism: vars.ARGON2_PARALLELISM,
    },
    tokens: {
      issuer: vars.JWT_ISSUER ?? `http://localhost:${vars.PORT}`,
      audience: vars.JWT_AUDIENCE,
      accessTokenTtlSeconds: vars.ACCESS_TOKEN_TTL,
      clockSkewSeconds: vars.JWT_CLOCK_SKEW,
      refreshIdleTtlSeconds: vars.REFRESH_TOKEN_IDLE_TTL,
      refreshAbsoluteTtlSeconds: vars.REFRESH_TOKEN_ABSOLUTE_TTL,
      refreshReuseGraceSeconds: vars.REFRESH_REUSE_GRACE,
      refreshCookie: vars.REFRESH_TOKEN_COOKIE,
      revocationResyncSeconds: vars.REVOCATION_RESYNC_INTERVAL,
      firstPartyClientId: vars.FIRST_PARTY_CLIENT_ID ?? vars.JWT_AUDIENCE,
    },
    retention: {
      sessionSeconds: vars.SESSION_RETENTION,
      auditSeconds: vars.AUDIT_RETENTION,
    },
    mail: mailConfig(vars),
    mfa: { adminRequireMfa: vars.ADMIN_REQUIRE_MFA, challengeTtlSeconds: vars.MFA_TOKEN_TTL },
    introspectionClients: new Map(
      (vars.INTROSPECTION_CLIENTS?.split(',') ?? []).map((entry) => {
        const [clientId, secretHash] = entry.trim().split(':') as [string, string];
        return [clientId, Buffer.from(secretHash, 'hex')];
      }),
    ),
    bootstrapAdmin:
      vars.BOOTSTRAP_ADMIN_EMAIL !== undefined && vars.BOOTSTRAP_ADMIN_PASSWORD !== undefined
        ? { email: normalizeEmail(vars.BOOTSTRAP_ADMIN_EMAIL), password: vars.BOOTSTRAP_ADMIN_PASSWORD }
        : undefined,
    keys: {
      keks: vars.KEYS_KEK?.split(',').map((kek) => Buffer.from(kek.trim(), 'base64')),
      devKekFile: vars.DEV_KEYS_KEK_FILE,
      signingKeyFile: vars.SIGNING_KEY_FILE,
      rotationIntervalSeconds: vars.KEY_ROTATION_INTERVAL,
      publishAheadSeconds: vars.KEY_PUBLISH_AHEAD,
    },
  };
}

/** The embedded database's address, for both connection kinds (main.ts, once it has started it). */
export function withDatabaseUrl(config: AppConfig, url: string): AppConfig {
  return { ...config, database: { ...config.database, url, directUrl: url } };
}

/** A Postgres URL may carry a password; this is the form that may appear in a log line. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
