import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { DiscoveryController } from './discovery.controller.js';
import { JwksController } from './jwks.controller.js';
import { KeysController } from './keys.controller.js';
import { KeysService } from './keys.service.js';

@Module({
  imports: [AuditModule],
  controllers: [JwksController, DiscoveryController, KeysController],
  providers: [KeysService],
  exports: [KeysService],
})
export class KeysModule {}
