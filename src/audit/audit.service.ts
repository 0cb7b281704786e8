import { ApiProperty } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { ClientContext } from '../common/client-context.js';
import { Clock } from '../common/clock.js';
import { ApiError } from '../common/errors/api-error.js';
import { decodeCursor, toPage, type Page } from '../common/pagination.js';
import { AUDIT_EVENT_TYPES, AuditEvent, type AuditDetails, type AuditEventType } from './audit-event.entity.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface AuditRecord {
  readonly type: AuditEventType;
  readonly userId?: string | null;
  readonly sessionId?: string | null;
  readonly client?: ClientContext;
  readonly details?: AuditDetails;
}

export class AuditEventResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: String, format: 'date-time' }) occurred_at!: Date;
  @ApiProperty({ enum: AUDIT_EVENT_TYPES }) type!: AuditEventType;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) user_id!: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) session_id!: string | null;
  @ApiProperty({ type: String, nullable: true }) ip!: string | null;
  @ApiProperty({ type: String, nullable: true }) user_agent!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Ids, reasons, roles and counts; never a secret' }) details!: AuditDetails;
}

@Injectable()
export class AuditService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  /** Appends an event; pass the transaction's manager so the event commits with what it describes. */
  async record(event: AuditRecord, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.insert(AuditEvent, this.row(event));
  }

  /**
   * The INSERT of an event for a caller that writes it within its own statement (a CTE): the
   * event's values are appended to `params`, and the row is written once per row of `from`.
   */
  insertStatement(event: AuditRecord, params: unknown[], from: string): string {
    const row = this.row(event);
    const values: Array<[unknown, string]> = [
      [row.id, 'uuid'],
      [row.occurredAt, 'timestamptz'],
      [row.type, 'text'],
      [row.userId, 'uuid'],
      [row.sessionId, 'uuid'],
      [row.ip, 'text'],
      [row.userAgent, 'text'],
      [JSON.stringify(row.details), 'jsonb'],
    ];
    // Typed: a SELECT list gives its parameters no type from the INSERT's columns.
    const placeholders = values.map(([value, type]) => `$${params.push(value)}::${type}`);
    return `INSERT INTO audit_events (id, occurred_at, type, user_id, session_id, ip, user_agent, details)
       SELECT ${placeholders.join(', ')} FROM ${from}`;
  }

  private row(event: AuditRecord): AuditEvent {
    return Object.assign(new AuditEvent(), {
      id: randomUUID(),
      occurredAt: this.clock.now(),
      type: event.type,
      userId: event.userId ?? null,
      sessionId: event.sessionId ?? null,
      ip: event.client?.ip ?? null,
      userAgent: event.client?.userAgent ?? null,
      details: event.details ?? {},
    });
  }

  /** Newest first. */
  async list(filter: { userId?: string; type?: AuditEventType; cursor?: string; limit: number }): Promise<Page<AuditEventResponse>> {
    const query = this.dataSource
      .getRepository(AuditEvent)
      .createQueryBuilder('event')
      .orderBy('event.occurredAt', 'DESC')
      .addOrderBy('event.id', 'DESC')
      .take(filter.limit + 1);
    if (filter.userId !== undefined) query.andWhere('event.userId = :userId', { userId: filter.userId });
    if (filter.type !== undefined) query.andWhere('event.type = :type', { type: filter.type });
    if (filter.cursor !== undefined) {
      const [at, id] = decodeCursor(filter.cursor, 2);
      if (Number.isNaN(Date.parse(at!)) || !UUID.test(id!)) throw ApiError.invalidRequest('cursor is not valid');
      query.andWhere('(event.occurredAt, event.id) < (:at, :id)', { at: new Date(at!), id });
    }
    // Event times come from the service clock in whole milliseconds, so the cursor's ISO form is exact.
    return toPage(
      await query.getMany(),
      filter.limit,
      (row) => [row.occurredAt.toISOString(), row.id],
      (row) => ({
        id: row.id,
        occurred_at: row.occurredAt,
        type: row.type,
        user_id: row.userId,
        session_id: row.sessionId,
        ip: row.ip,
        user_agent: row.userAgent,
        details: row.details,
      }),
    );
  }
}
