import { ApiError } from '../common/errors/api-error.js';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import type { ClientContext } from '../common/client-context.js';
import { Clock } from '../common/clock.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { OutboxSender } from '../mail/outbox-sender.js';
import { Revocations } from '../sessions/revocations.js';
import { LoginThrottle } from '../throttle/login-throttle.service.js';
import { TrustedDevices } from '../throttle/trusted-devices.js';
import { PasswordHasher } from '../users/password-hasher.service.js';
import { AccountRepository } from './account.repository.js';
import { MAILS_PER_ACCOUNT_PER_HOUR } from './mail-budget.js';
import { mailLink, passwordResetMail } from './mail-templates.js';
import { generateMailToken, hashMailToken, MAIL_TOKEN_PATTERN } from './mail-token-crypto.js';
import { MailTokensRepository, type TokenFailure } from './mail-tokens.repository.js';

/** Recovery of a forgotten password by mail. */
@Injectable()
export class PasswordRecovery {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly accounts: AccountRepository,
    private readonly tokens: MailTokensRepository,
    private readonly revocations: Revocations,
    private readonly passwords: PasswordHasher,
    private readonly devices: TrustedDevices,
    private readonly loginThrottle: LoginThrottle,
    private readonly sender: OutboxSender,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /**
   * POST /auth/password/forgot. The same work whether the address has an account, a disabled one,
   * or none: a token and a mail are composed every time, and one transaction runs the same two
   * statements (the account's row locked by address; the statement that writes token, mail and
   * audit event only for an enabled account within its mail budget). Delivery happens after the
   * answer, so it cannot be timed either.
   * @param email canonical
   */
  async forgot(email: string, client: ClientContext): Promise<void> {
    const { publicUrl, passwordResetTtlSeconds } = this.config.mail;
    const at = this.clock.now();
    const expiresAt = new Date(at.getTime() + passwordResetTtlSeconds * 1000);
    const token = generateMailToken();
    const content = passwordResetMail(mailLink(publicUrl, 'reset-password', token), passwordResetTtlSeconds);
    const queued = await this.dataSource.transaction(async (manager) => {
      const userId = (await this.accounts.lockIdByEmail(manager, email)) ?? null;
      return this.tokens.issue(manager, {
        userId,
        purpose: 'password_reset',
        tokenId: randomUUID(),
        tokenHash: hashMailToken(token),
        at,
        expiresAt,
        voidOlder: true,
        mailsPerHour: MAILS_PER_ACCOUNT_PER_HOUR,
        mail: { id: randomUUID(), subject: content.subject, text: content.text, html: content.html, at, expiresAt },
        audit: { type: 'password_reset_requested', userId, client },
      });
    });
    if (queued) void this.sender.wake();
  }

  /**
   * POST /auth/password/reset: the token is spent, the password replaced, and every session of the
   * account ended with all its access tokens (through the revocation path admin actions use), its
   * devices forgotten, its other reset links voided and its login backoff cleared. Opening the
   * link proves the address, so it also counts as verified.
   * @throws ApiError 400 invalid_grant
   */
  async reset(token: string, newPassword: string, client: ClientContext): Promise<void> {
    const now = this.clock.now();
    const tokenHash = hashMailToken(token);
    const presented = MAIL_TOKEN_PATTERN.test(token) ? await this.tokens.inspect(tokenHash, 'password_reset', now) : undefined;
    let failure: TokenFailure | undefined = presented === undefined ? 'unknown' : presented.failure;
    if (presented !== undefined && failure === undefined) {
      // Hashed before the transaction, which then holds the account's row only briefly.
      const passwordHash = await this.passwords.hash(newPassword);
      const sessions = await this.revocations.transaction(async (revoke) => {
        const { manager } = revoke;
        const account = await this.accounts.lock(manager, presented.userId);
        if (account === undefined || account.disabled) return undefined;
        if (!(await this.tokens.consume(manager, tokenHash, 'password_reset', account.id, now))) return undefined;
        await this.accounts.setPassword(manager, account.id, passwordHash, true);
        const ended = await revoke.revokeAllSessionsOf(account.id, 'password_reset');
        await this.devices.forgetAllOf(manager, account.id);
        await this.tokens.voidAll(manager, account.id, 'password_reset', now);
        await this.loginThrottle.clear(manager, account.email);
        await this.audit.record({ type: 'password_reset', userId: account.id, client, details: { sessions: ended } }, manager);
        return ended;
      });
      if (sessions !== undefined) return;
      failure = 'used';
    }
    await this.audit.record({ type: 'password_reset_failed', userId: presented?.userId ?? null, client, details: { reason: failure ?? 'unknown' } });
    throw ApiError.invalidMailToken();
  }
}
