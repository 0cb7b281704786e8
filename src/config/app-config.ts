import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUrl, Max, Min, validateSync } from 'class-validator';

export const APP_CONFIG = Symbol('APP_CONFIG');

export type NodeEnv = 'development' | 'test' | 'production';

export interface AppConfig {
  readonly nodeEnv: NodeEnv;
  readonly port: number;
  readonly host: string;
  readonly logLevel: string;
  readonly database: {
    /** Unset means "start the embedded Postgres"; main.ts fills it in before the app boots. */
    readonly url: string | undefined;
    readonly embeddedDataDir: string;
    readonly poolSize: number;
    readonly statementTimeoutMs: number;
  };
  readonly argon2: {
    readonly memoryCostKib: number;
    readonly timeCost: number;
    readonly parallelism: number;
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;

/** The environment as the service reads it; each property is named after its variable. */
class EnvironmentVariables {
  @IsIn(['development', 'test', 'production'])
  NODE_ENV: NodeEnv = 'development';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(65535)
  PORT = 3000;

  @IsString()
  HOST = '0.0.0.0';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @IsOptional()
  @IsUrl({ protocols: ['postgres', 'postgresql'], require_tld: false, require_protocol: true })
  DATABASE_URL?: string;

  @IsString()
  EMBEDDED_DATABASE_DIR = '.data/pglite';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  DATABASE_POOL_SIZE = 10;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  DATABASE_STATEMENT_TIMEOUT_MS = 5000;

  // OWASP's argon2id baseline; lower values are refused so a typo cannot weaken every stored hash.
  @Transform(toInt)
  @IsInt()
  @Min(19456)
  ARGON2_MEMORY_COST_KIB = 19456;

  @Transform(toInt)
  @IsInt()
  @Min(2)
  ARGON2_TIME_COST = 2;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(16)
  ARGON2_PARALLELISM = 1;
}

/** Variables whose empty value means "unset", as shells and compose files often leave them. */
function withoutEmptyValues(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''),
  );
}

/**
 * Reads and validates the configuration once. Throws a ConfigError naming every bad variable,
 * so a misconfigured service stops at boot instead of failing on its first request.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const vars = plainToInstance(EnvironmentVariables, withoutEmptyValues(env));
  const problems = validateSync(vars).map(
    (error) => `${error.property}: ${Object.values(error.constraints ?? {}).join('; ')}`,
  );
  if (vars.NODE_ENV === 'production' && vars.DATABASE_URL === undefined) {
    problems.push('DATABASE_URL: is required when NODE_ENV=production (the embedded database is for development only)');
  }
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }

  return {
    nodeEnv: vars.NODE_ENV,
    port: vars.PORT,
    host: vars.HOST,
    logLevel: vars.LOG_LEVEL,
    database: {
      url: vars.DATABASE_URL,
      embeddedDataDir: vars.EMBEDDED_DATABASE_DIR,
      poolSize: vars.DATABASE_POOL_SIZE,
      statementTimeoutMs: vars.DATABASE_STATEMENT_TIMEOUT_MS,
    },
    argon2: {
      memoryCostKib: vars.ARGON2_MEMORY_COST_KIB,
      timeCost: vars.ARGON2_TIME_COST,
      parallelism: vars.ARGON2_PARALLELISM,
    },
  };
}

export function withDatabaseUrl(config: AppConfig, url: string): AppConfig {
  return { ...config, database: { ...config.database, url } };
}

/** A Postgres URL may carry a password; this is the form that may appear in a log line. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
