import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { User } from './user.entity.js';

export const ADMIN_ROLE = 'admin';

/** A user row as an admin change reads it, under lock. */
export type LockedUser = Pick<User, 'id' | 'email' | 'roles' | 'disabled' | 'tokenGeneration'>;

export const isActiveAdmin = (user: Pick<User, 'roles' | 'disabled'>): boolean => user.roles.includes(ADMIN_ROLE) && !user.disabled;

/** The locked reads and writes of user rows that admin decisions are made on. */
@Injectable()
export class UsersRepository {
  /**
   * Locks (FOR UPDATE) the named users and every active admin, always in id order, so any two
   * admin changes queue on their first common row instead of deadlocking. Logins and refreshes
   * hold the user's row in KEY SHARE while they issue, so they wait for the change, and the change
   * waits for them.
   */
  async lockWithActiveAdmins(manager: EntityManager, ids: readonly string[]): Promise<LockedUser[]> {
    const rows = (await manager.query(
      `SELECT id, email, roles, disabled, token_generation AS "tokenGeneration" FROM users
       WHERE id = ANY($1::uuid[]) OR ($2 = ANY(roles) AND NOT disabled)
       ORDER BY id FOR UPDATE`,
      [ids, ADMIN_ROLE],
    )) as LockedUser[];
    return rows;
  }

  async update(manager: EntityManager, id: string, changes: Pick<User, 'roles' | 'disabled'>): Promise<void> {
    await manager.update(User, { id }, changes);
  }
}
