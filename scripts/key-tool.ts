import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ConfigError, loadConfig, type AppConfig } from '../src/config/app-config.js';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { resolveKeks } from '../src/keys/kek-source.js';
import { KeyEncryption } from '../src/keys/key-encryption.js';

export interface ToolContext {
  readonly config: AppConfig;
  readonly dataSource: DataSource;
  readonly logger: Logger;
  /** KEYS_KEK (or the development KEK file), as the service resolves it. */
  readonly encryption: KeyEncryption;
}

/**
 * Runs an operator tool on the database of DATABASE_URL (the embedded database belongs to the
 * running service). A ConfigError ends it with its message alone, anything else with the error;
 * either exits 1.
 */
export function runKeyTool(name: string, tool: (context: ToolContext) => Promise<void>): void {
  const run = async () => {
    const config = loadConfig();
    if (config.database.url === undefined) throw new ConfigError(`DATABASE_URL: is required by ${name}`);
    const dataSource = await new DataSource(dataSourceOptions(config.database, config.database.url)).initialize();
    try {
      const logger = new Logger(name);
      await tool({ config, dataSource, logger, encryption: new KeyEncryption(await resolveKeks(config.keys, logger)) });
    } finally {
      await dataSource.destroy();
    }
  };
  run().catch((error: unknown) => {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(1);
  });
}
