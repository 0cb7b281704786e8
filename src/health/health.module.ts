import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module.js';
import { HealthController } from './health.controller.js';
import { HealthService } from './health.service.js';

@Module({
  imports: [KeysModule],
  controllers: [HealthController],
  providers: [HealthService],
})
export class HealthModule {}
