import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { ClockCalibration } from './clock-calibration.js';
import { dataSourceOptions } from './data-source-options.js';
import { prepareDatabase } from './migrate.js';

/** The database settings behind each options object, for the factory below (which gets only the options). */
const settingsOf = new WeakMap<DataSourceOptions, AppConfig['database']>();

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        if (config.database.url === undefined) throw new Error('database.url must be resolved before the app starts');
        const options = dataSourceOptions(config.database, config.database.url);
        settingsOf.set(options, config.database);
        return options;
      },
      dataSourceFactory: async (options) => {
        // Migrations (and the role's statement_timeout) on the direct connection first, then the
        // query pool, which may go through a transaction pooler.
        const settings = settingsOf.get(options!);
        if (settings === undefined) throw new Error('database settings missing for the data source options');
        await prepareDatabase(settings);
        return new DataSource(options!).initialize();
      },
    }),
  ],
  // Here, in the first module to start, so the clock is on the database's time before anything reads it.
  providers: [ClockCalibration],
})
export class DatabaseModule {}
