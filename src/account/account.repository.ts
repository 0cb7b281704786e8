import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, MoreThan, type EntityManager } from 'typeorm';
import { Session } from '../sessions/session.entity.js';
import { User } from '../users/user.entity.js';

/** An account as a self-service change reads it, under lock. */
export type LockedAccount = Pick<User, 'id' | 'email' | 'passwordHash' | 'roles' | 'disabled' | 'tokenGeneration' | 'emailVerified'>;

/** The SQL of account self-service: the account's row under lock, its password and verification, its sessions. */
@Injectable()
export class AccountRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * FOR UPDATE, not the weaker lock a plain UPDATE takes: logins and refreshes hold the row in KEY
   * SHARE while they issue, so they wait for this change, and it for them.
   */
  async lock(manager: EntityManager, id: string): Promise<LockedAccount | undefined> {
    const [row] = (await manager.query(
      `SELECT id, email, password_hash AS "passwordHash", roles, disabled, token_generation AS "tokenGeneration", email_verified AS "emailVerified"
       FROM users WHERE id = $1 FOR UPDATE`,
      [id],
    )) as LockedAccount[];
    return row;
  }

  /** The account as it is now, unlocked (a password check before the change's transaction). */
  async find(id: string): Promise<LockedAccount | undefined> {
    const [row] = (await this.dataSource.query(
      `SELECT id, email, password_hash AS "passwordHash", roles, disabled, token_generation AS "tokenGeneration", email_verified AS "emailVerified"
       FROM users WHERE id = $1`,
      [id],
    )) as LockedAccount[];
    return row;
  }

  /** The same statement whether the address has an account or not. */
  async lockIdByEmail(manager: EntityManager, email: string): Promise<string | undefined> {
    const [row] = (await manager.query(`SELECT id FROM users WHERE email = $1 FOR UPDATE`, [email])) as Array<{ id: string }>;
    return row?.id;
  }

  /** A new password; receiving a reset mail also proves the address (`verifyEmail`). */
  async setPassword(manager: EntityManager, id: string, passwordHash: string, verifyEmail: boolean): Promise<void> {
    await manager.update(User, { id }, verifyEmail ? { passwordHash, emailVerified: true } : { passwordHash });
  }

  async markEmailVerified(manager: EntityManager, id: string): Promise<void> {
    await manager.update(User, { id }, { emailVerified: true });
  }

  async isEmailVerified(id: string): Promise<boolean> {
    const [row] = (await this.dataSource.query(`SELECT email_verified AS "emailVerified" FROM users WHERE id = $1`, [id])) as Array<{
      emailVerified: boolean;
    }>;
    return row?.emailVerified === true;
  }

  /** Not revoked and not past their absolute end, newest first. */
  liveSessionsOf(userId: string, now: Date): Promise<Session[]> {
    return this.dataSource.getRepository(Session).find({
      where: { userId, revokedAt: IsNull(), expiresAt: MoreThan(now) },
      order: { createdAt: 'DESC' },
    });
  }

  async sessionOwner(manager: EntityManager, sessionId: string): Promise<string | undefined> {
    const session = await manager.findOne(Session, { select: { id: true, userId: true }, where: { id: sessionId } });
    return session?.userId;
  }

  /** Sessions, refresh tokens, device proofs, mail tokens and mails go with it (ON DELETE CASCADE); audit events stay. */
  async delete(manager: EntityManager, id: string): Promise<void> {
    await manager.delete(User, { id });
  }
}
