import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { AuditEventType } from '../audit/audit-event.entity.js';
import type { AuthenticatedUser } from '../common/auth/authenticated-user.js';
import type { ClientContext } from '../common/client-context.js';
import { Clock } from '../common/clock.js';
import { ApiError } from '../common/errors/api-error.js';
import type { Session } from '../sessions/session.entity.js';
import { Revocations } from '../sessions/revocations.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { LoginThrottle } from '../throttle/login-throttle.service.js';
import { PasswordHasher } from '../users/password-hasher.service.js';
import { isActiveAdmin, UsersRepository } from '../users/users.repository.js';
import type { EntityManager } from 'typeorm';
import { AccountRepository, type LockedAccount } from './account.repository.js';
import { MailTokensRepository } from './mail-tokens.repository.js';

/**
 * What a signed-in user may do to their own account: change the password, see and end their
 * sessions, delete the account. Each change is one transaction over the account's locked row,
 * through Revocations, so it is in force on every replica's guard as admin actions are.
 */
@Injectable()
export class AccountService {
  constructor(
    private readonly accounts: AccountRepository,
    private readonly usersRepository: UsersRepository,
    private readonly tokens: MailTokensRepository,
    private readonly sessions: SessionsService,
    private readonly revocations: Revocations,
    private readonly passwords: PasswordHasher,
    private readonly loginThrottle: LoginThrottle,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /**
   * Replaces the password and ends every other session of the user, by session id: their refresh
   * tokens stop at once and their access tokens are refused by `sid` on every replica. The user's
   * token generation is not raised, so the caller's own access token goes on working. A wrong
   * current password counts toward the login backoff of this client on this account.
   * @throws ApiError 401 invalid_credentials, 429 while the backoff runs
   */
  async changePassword(caller: AuthenticatedUser, currentPassword: string, newPassword: string, client: ClientContext): Promise<void> {
    const checkedHash = await this.checkPassword(caller, currentPassword, client, 'password_change_failed');
    const passwordHash = await this.passwords.hash(newPassword);
    await this.revocations.transaction(async (revoke) => {
      const { manager, at } = revoke;
      const account = await this.lockCaller(revoke.manager, caller);
      // Changed by a concurrent reset or change since it was checked: the password given is no longer the account's.
      if (account.passwordHash !== checkedHash) throw ApiError.invalidCredentials();
      await this.accounts.setPassword(manager, account.id, passwordHash, false);
      const ended = await revoke.revokeOtherSessionsOf(account.id, caller.sessionId, 'password_changed');
      await this.tokens.voidAll(manager, account.id, 'password_reset', at);
      await this.audit.record(
        { type: 'password_changed', userId: account.id, sessionId: caller.sessionId, client, details: { sessions: ended } },
        manager,
      );
    });
  }

  /** The caller's live sessions, newest first. */
  liveSessions(caller: AuthenticatedUser): Promise<Session[]> {
    return this.accounts.liveSessionsOf(caller.id, this.clock.now());
  }

  /**
   * Ends one of the caller's sessions (the current one included). Another user's session and an
   * unknown id get the same 404: whether a session id exists is nobody else's business.
   */
  async revokeSession(caller: AuthenticatedUser, sessionId: string, client: ClientContext): Promise<void> {
    await this.revocations.transaction(async (revoke) => {
      if ((await this.accounts.sessionOwner(revoke.manager, sessionId)) !== caller.id) throw ApiError.notFound('No such session');
      await this.sessions.revokeSession(revoke, sessionId, 'revoked_by_user', client, caller.id);
    });
  }

  /**
   * Deletes the account: every session revoked (announced as admin revocations are), then the row,
   * and with it (ON DELETE CASCADE) its sessions, device proofs, mail tokens and mails, so the email
   * is free again. Audit events stay: they name the user by id only, never by email.
   * @throws ApiError 401 invalid_credentials, 409 for the last active admin
   */
  async deleteAccount(caller: AuthenticatedUser, password: string, client: ClientContext): Promise<void> {
    const checkedHash = await this.checkPassword(caller, password, client, 'account_deletion_failed');
    await this.revocations.transaction(async (revoke) => {
      const { manager } = revoke;
      const locked = await this.usersRepository.lockWithActiveAdmins(manager, [caller.id]);
      const self = locked.find((row) => row.id === caller.id);
      const account = await this.lockCaller(manager, caller);
      if (account.passwordHash !== checkedHash) throw ApiError.invalidCredentials();
      if (self !== undefined && isActiveAdmin(self) && locked.filter(isActiveAdmin).length <= 1) {
        throw ApiError.conflict('The last active admin cannot delete their account');
      }
      const ended = await revoke.revokeAllSessionsOf(account.id, 'account_deleted');
      await this.loginThrottle.clear(manager, account.email);
      await this.audit.record(
        { type: 'account_deleted', userId: account.id, sessionId: caller.sessionId, client, details: { sessions: ended } },
        manager,
      );
      await this.accounts.delete(manager, account.id);
    });
  }

  /**
   * The password check of login, with its throttle: reserved before argon2 runs, given back on a
   * match. @returns the hash it matched, which the change then requires to be still current
   */
  private async checkPassword(caller: AuthenticatedUser, password: string, client: ClientContext, failure: AuditEventType): Promise<string> {
    const attempt = await this.loginThrottle.reserve(caller.email, { ip: client.ip });
    const account = await this.accounts.find(caller.id);
    const outcome =
      account === undefined ? await this.passwords.verifyAgainstDummy(password) : await this.passwords.verify(account.passwordHash, password);
    if (account === undefined || (outcome !== 'match' && outcome !== 'legacy')) {
      await this.audit.record({ type: failure, userId: caller.id, sessionId: caller.sessionId, client, details: { reason: 'wrong_password' } });
      throw ApiError.invalidCredentials();
    }
    await this.loginThrottle.succeeded(attempt);
    return account.passwordHash;
  }

  /** The caller's row, locked; a caller whose account, session or token generation is gone is a 401 like any revoked token. */
  private async lockCaller(manager: EntityManager, caller: AuthenticatedUser): Promise<LockedAccount> {
    const account = await this.accounts.lock(manager, caller.id);
    if (account === undefined || account.disabled || account.tokenGeneration !== caller.tokenGeneration) throw ApiError.invalidToken();
    if (!(await this.sessions.isLive(manager, caller.sessionId))) throw ApiError.invalidToken();
    return account;
  }
}
