import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { HealthController } from './health.controller.js';
import { HealthService } from './health.service.js';

@Module({
  imports: [KeysModule, SessionsModule],
  controllers: [HealthController],
  providers: [HealthService],
})
export class HealthModule {}
