import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { AuthenticatedUser } from '../common/auth/authenticated-user.js';
import type { ClientContext } from '../common/client-context.js';
import { ApiError } from '../common/errors/api-error.js';
import { MfaService } from '../mfa/mfa.service.js';
import { Revocations, type RevocationBatch } from '../sessions/revocations.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { LoginThrottle } from '../throttle/login-throttle.service.js';
import { TrustedDevices } from '../throttle/trusted-devices.js';
import { toAdminUserResponse, type AdminUserResponseDto } from '../users/admin-user-response.dto.js';
import { isActiveAdmin, UsersRepository, type LockedUser } from '../users/users.repository.js';
import { UsersService } from '../users/users.service.js';
import { AdminActor } from './admin-actor.js';

export interface UserChanges {
  readonly roles?: string[];
  readonly disabled?: boolean;
}

const sameRoles = (a: readonly string[], b: readonly string[]) => [...a].sort().join() === [...b].sort().join();

/**
 * Admin decisions about users and sessions, each made in one transaction over locked rows and in
 * force on every replica's guard as the response leaves: its revocations are applied here before
 * answering, and announced to the others on commit.
 *
 * The acting admin is checked again inside that transaction, on their locked row: a request that
 * passed the guard a moment before the admin was demoted, disabled or logged out (on another
 * replica, say) changes nothing.
 */
@Injectable()
export class AdminUsersService {
  constructor(
    private readonly users: UsersService,
    private readonly usersRepository: UsersRepository,
    private readonly sessions: SessionsService,
    private readonly revocations: Revocations,
    private readonly audit: AuditService,
    private readonly loginThrottle: LoginThrottle,
    private readonly trustedDevices: TrustedDevices,
    private readonly adminActor: AdminActor,
    private readonly mfa: MfaService,
  ) {}

  /**
   * Changes roles and the disabled flag. A role change voids the user's access tokens (the next
   * refresh carries the new roles); disabling also ends every session and forgets the user's
   * trusted devices. An admin cannot disable themselves, and no change may leave the service
   * without an active admin: every active admin's row is locked while that is decided, so two
   * admins demoting each other cannot both succeed.
   */
  async update(id: string, changes: UserChanges, actor: AuthenticatedUser, client: ClientContext): Promise<AdminUserResponseDto> {
    if (changes.disabled === true && id === actor.id) throw ApiError.conflict('An admin cannot disable their own account');

    await this.asAdmin(actor, [id], async (revoke, locked) => {
      const user = locked.find((row) => row.id === id);
      if (user === undefined) throw ApiError.notFound('No such user');
      const roles = changes.roles === undefined ? user.roles : [...new Set(changes.roles)];
      const disabled = changes.disabled ?? user.disabled;
      const rolesChanged = !sameRoles(roles, user.roles);
      if (!rolesChanged && disabled === user.disabled) return;
      const activeAdmins = locked.filter(isActiveAdmin).length;
      if (isActiveAdmin(user) && !isActiveAdmin({ roles, disabled }) && activeAdmins <= 1) {
        throw ApiError.conflict('This change would leave no active admin');
      }

      const { manager } = revoke;
      await this.usersRepository.update(manager, id, { roles, disabled });
      const audit = { userId: id, client, details: { by: actor.id } };
      if (disabled && !user.disabled) {
        const sessions = await revoke.revokeAllSessionsOf(id, 'user_disabled');
        await this.trustedDevices.forgetAllOf(manager, id);
        await this.audit.record({ ...audit, type: 'user_disabled', details: { ...audit.details, sessions } }, manager);
      } else if (rolesChanged) {
        await revoke.voidAccessTokensOf(id);
      }
      if (rolesChanged) {
        await this.audit.record({ ...audit, type: 'roles_changed', details: { ...audit.details, from: user.roles, to: roles } }, manager);
      }
      if (!disabled && user.disabled) await this.audit.record({ ...audit, type: 'user_enabled' }, manager);
    });
    const updated = await this.users.findById(id);
    if (updated === null) throw ApiError.notFound('No such user');
    return toAdminUserResponse(updated);
  }

  /**
   * Ends every session of the user and voids all their access tokens; their devices are no longer
   * trusted (a stolen device cookie ends with the sessions).
   */
  async revokeSessionsOf(id: string, actor: AuthenticatedUser, client: ClientContext): Promise<void> {
    await this.asAdmin(actor, [id], async (revoke, locked) => {
      if (!locked.some((row) => row.id === id)) throw ApiError.notFound('No such user');
      const sessions = await revoke.revokeAllSessionsOf(id, 'revoked_by_admin');
      await this.trustedDevices.forgetAllOf(revoke.manager, id);
      await this.audit.record(
        { type: 'user_sessions_revoked', userId: id, client, details: { reason: 'revoked_by_admin', sessions, by: actor.id } },
        revoke.manager,
      );
    });
  }

  /**
   * Removes the user's TOTP and recovery codes (a lost phone) and ends every session of theirs: the
   * next login is with the password alone, and whoever held a session is out.
   */
  async resetMfa(id: string, actor: AuthenticatedUser, client: ClientContext): Promise<void> {
    await this.asAdmin(actor, [id], async (revoke, locked) => {
      if (!locked.some((row) => row.id === id)) throw ApiError.notFound('No such user');
      await this.mfa.deleteAllOf(revoke.manager, id);
      const sessions = await revoke.revokeAllSessionsOf(id, 'mfa_reset');
      await this.audit.record({ type: 'mfa_reset', userId: id, client, details: { sessions, by: actor.id } }, revoke.manager);
    });
  }

  /** Forgets every client's login failures on the account and its spent guess budget. */
  async clearLoginThrottle(id: string, actor: AuthenticatedUser, client: ClientContext): Promise<void> {
    await this.asAdmin(actor, [id], async ({ manager }, locked) => {
      const user = locked.find((row) => row.id === id);
      if (user === undefined) throw ApiError.notFound('No such user');
      await this.loginThrottle.clear(manager, user.email);
      await this.audit.record({ type: 'login_throttle_cleared', userId: id, client, details: { by: actor.id } }, manager);
    });
  }

  async revokeSession(sessionId: string, actor: AuthenticatedUser, client: ClientContext): Promise<void> {
    await this.asAdmin(actor, [], async (revoke) => {
      const outcome = await this.sessions.revokeSession(revoke, sessionId, 'revoked_by_admin', client, actor.id);
      if (outcome === 'unknown') throw ApiError.notFound('No such session');
    });
  }

  /**
   * Runs an admin decision in a revocation transaction, with the named users, every active admin
   * and the actor locked, after confirming that the actor is still an active admin whose token is
   * current and whose session is live.
   */
  private asAdmin(
    actor: AuthenticatedUser,
    userIds: readonly string[],
    decide: (revoke: RevocationBatch, locked: LockedUser[]) => Promise<void>,
  ): Promise<void> {
    return this.revocations.transaction(async (revoke) => {
      const locked = await this.usersRepository.lockWithActiveAdmins(revoke.manager, [...userIds, actor.id]);
      await this.adminActor.confirm(
        revoke.manager,
        actor,
        locked.find((row) => row.id === actor.id),
      );
      await decide(revoke, locked);
    });
  }
}
