import { Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { Clock } from '../common/clock.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { calibrateClock, ClockCalibration } from './clock-calibration.js';
import { dataSourceOptions } from './data-source-options.js';
import { prepareDatabase } from './migrate.js';

/** What the factory below needs beyond the options object it is given. */
const contextOf = new WeakMap<DataSourceOptions, { settings: AppConfig['database']; clock: Clock }>();

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG, Clock],
      useFactory: (config: AppConfig, clock: Clock) => {
        if (config.database.url === undefined) throw new Error('database.url must be resolved before the app starts');
        const options = dataSourceOptions(config.database, config.database.url);
        contextOf.set(options, { settings: config.database, clock });
        return options;
      },
      dataSourceFactory: async (options) => {
        const context = contextOf.get(options!);
        if (context === undefined) throw new Error('database settings missing for the data source options');
        // Migrations (and the role's statement_timeout) on the direct connection first, then the
        // query pool, which may go through a transaction pooler.
        await prepareDatabase(context.settings);
        const dataSource = await new DataSource(options!).initialize();
        // Before any module reads the clock (keys, revocations): every replica on the database's time.
        await calibrateClock(dataSource, context.clock, new Logger(ClockCalibration.name));
        return dataSource;
      },
    }),
  ],
  providers: [ClockCalibration],
})
export class DatabaseModule {}
