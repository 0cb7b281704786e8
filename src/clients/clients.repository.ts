import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import { ApiError } from '../common/errors/api-error.js';
import { decodeCursor, toPage, type Page } from '../common/pagination.js';
import { ServiceClient } from './service-client.entity.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What introspection needs to know, from the database, about a service client's token. */
export interface ClientTokenStanding {
  readonly disabled: boolean;
  readonly deleted: boolean;
  readonly tokenGeneration: number;
  readonly tokensRevokedAt: Date | null;
  readonly tokenRevokedAt: Date | null;
}

export type ConfiguredClientOutcome = 'created' | 'updated' | 'unchanged' | 'deleted';

/** The SQL of service clients, their used assertion ids and their revoked tokens. */
@Injectable()
export class ClientsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** A live (not deleted) client by its OAuth client_id, for authentication. */
  findByClientId(clientId: string): Promise<ServiceClient | null> {
    return this.dataSource.getRepository(ServiceClient).findOne({ where: { clientId, deletedAt: IsNull() } });
  }

  findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<ServiceClient | null> {
    return manager.findOne(ServiceClient, { where: { id, deletedAt: IsNull() } });
  }

  /** The live client, locked for an admin change until the transaction ends. */
  async lock(manager: EntityManager, id: string): Promise<ServiceClient | null> {
    return manager
      .getRepository(ServiceClient)
      .createQueryBuilder('client')
      .setLock('pessimistic_write')
      .where('client.id = :id AND client.deletedAt IS NULL', { id })
      .getOne();
  }

  async insert(manager: EntityManager, client: ServiceClient): Promise<void> {
    await manager.insert(ServiceClient, client);
  }

  async update(manager: EntityManager, id: string, changes: Partial<ServiceClient>): Promise<void> {
    await manager.update(ServiceClient, { id }, changes);
  }

  /** Live clients, oldest first; the cursor is the last row's (created_at, id). */
  async list(filter: { limit: number; cursor?: string }): Promise<Page<ServiceClient>> {
    const query = this.dataSource
      .getRepository(ServiceClient)
      .createQueryBuilder('client')
      .where('client.deletedAt IS NULL')
      .orderBy('client.createdAt', 'ASC')
      .addOrderBy('client.id', 'ASC')
      .take(filter.limit + 1);
    if (filter.cursor !== undefined) {
      const [at, id] = decodeCursor(filter.cursor, 2);
      if (Number.isNaN(Date.parse(at!)) || !UUID.test(id!)) throw ApiError.invalidRequest('cursor is not valid');
      query.andWhere('(client.createdAt, client.id) > (:at, :id)', { at: new Date(at!), id });
    }
    // Creation times come from the service clock in whole milliseconds, so the cursor's ISO form is exact.
    return toPage(
      await query.getMany(),
      filter.limit,
      (row) => [row.createdAt.toISOString(), row.id],
      (row) => row,
    );
  }

  /**
   * Creates or updates a client named in INTROSPECTION_CLIENTS, in one statement, so replicas that
   * start together neither fail on the unique client_id nor apply it twice. The configured digest
   * replaces the secret only when the variable's value changed since it was last applied: a secret
   * an admin rotated since stays. A client an admin deleted stays deleted.
   */
  async upsertConfigured(
    manager: EntityManager,
    row: { id: string; clientId: string; secretHash: Buffer; at: Date },
  ): Promise<ConfiguredClientOutcome> {
    const rows = (await manager.query(
      `INSERT INTO service_clients AS c (id, client_id, name, auth_method, secret_hash, configured_secret_hash, created_at, updated_at)
       VALUES ($1, $2, $2, 'client_secret_basic', $3, $3, $4, $4)
       ON CONFLICT (client_id) DO UPDATE
         SET secret_hash = EXCLUDED.secret_hash, configured_secret_hash = EXCLUDED.configured_secret_hash,
             previous_secret_hash = NULL, previous_secret_expires_at = NULL, updated_at = EXCLUDED.updated_at
         WHERE c.deleted_at IS NULL AND c.configured_secret_hash IS DISTINCT FROM EXCLUDED.configured_secret_hash
       RETURNING (xmax = 0) AS created`,
      [row.id, row.clientId, row.secretHash, row.at],
    )) as Array<{ created: boolean }>;
    const [outcome] = rows;
    if (outcome !== undefined) return outcome.created ? 'created' : 'updated';
    const live = await manager.exists(ServiceClient, { where: { clientId: row.clientId, deletedAt: IsNull() } });
    return live ? 'unchanged' : 'deleted';
  }

  /**
   * Takes an assertion's jti for good (until it expires): true the first time, false for a replay,
   * on whichever replica it comes back to.
   */
  async useAssertion(clientId: string, jti: string, expiresAt: Date): Promise<boolean> {
    const rows = (await this.dataSource.query(
      `INSERT INTO client_assertions (client_id, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING jti`,
      [clientId, jti, expiresAt],
    )) as unknown[];
    return rows.length === 1;
  }

  /** Live state of a client token's issuer and of the token itself. */
  async tokenStanding(clientId: string, jti: string): Promise<ClientTokenStanding | undefined> {
    const [row] = (await this.dataSource.query(
      `SELECT c.disabled, c.deleted_at IS NOT NULL AS deleted, c.token_generation AS "tokenGeneration",
              c.tokens_revoked_at AS "tokensRevokedAt", t.revoked_at AS "tokenRevokedAt"
       FROM service_clients c LEFT JOIN revoked_client_tokens t ON t.jti::text = $2 AND t.client_id = c.client_id
       WHERE c.client_id = $1`,
      [clientId, jti],
    )) as ClientTokenStanding[];
    return row;
  }
}
