import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { ClientsRepository } from './clients.repository.js';

/**
 * INTROSPECTION_CLIENTS, from before service clients lived in the database, keeps working: at
 * each start its clients are created (client_secret_basic, the configured SHA-256 digest as their
 * secret hash, no scopes or roles) or, when the configured digest changed, given it. Replicas
 * starting together are safe: each client is one upsert.
 */
@Injectable()
export class ClientsBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger(ClientsBootstrap.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clients: ClientsRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const [clientId, secretHash] of this.config.introspectionClients) {
      const outcome = await this.dataSource.transaction(async (manager) => {
        const result = await this.clients.upsertConfigured(manager, { id: randomUUID(), clientId, secretHash, at: this.clock.now() });
        if (result === 'created' || result === 'updated') {
          const type = result === 'created' ? 'client_created' : 'client_secret_rotated';
          await this.audit.record({ type, details: { client_id: clientId, by: 'INTROSPECTION_CLIENTS' } }, manager);
        }
        return result;
      });
      if (outcome === 'deleted') {
        this.logger.warn(`INTROSPECTION_CLIENTS names client "${clientId}", which an admin deleted; it stays deleted (remove it from the variable)`);
      } else if (outcome !== 'unchanged') {
        this.logger.log(`Service client "${clientId}" ${outcome} from INTROSPECTION_CLIENTS`);
      }
    }
  }
}
