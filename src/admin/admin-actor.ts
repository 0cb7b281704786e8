import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AuthenticatedUser } from '../common/auth/authenticated-user.js';
import { ApiError } from '../common/errors/api-error.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { isActiveAdmin, type LockedUser } from '../users/users.repository.js';

/**
 * The acting admin, checked again inside the transaction of their decision: a request that passed
 * the guard a moment before the admin was demoted, disabled or logged out (on another replica,
 * say) changes nothing and answers 401.
 */
@Injectable()
export class AdminActor {
  constructor(private readonly sessions: SessionsService) {}

  /** @param row the actor's row, locked by the caller's transaction */
  async confirm(manager: EntityManager, actor: AuthenticatedUser, row: LockedUser | undefined): Promise<void> {
    const current = row !== undefined && isActiveAdmin(row) && row.tokenGeneration === actor.tokenGeneration;
    if (!current || !(await this.sessions.isLive(manager, actor.sessionId))) throw ApiError.invalidToken();
  }
}
