import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import type { AuthenticatedUser } from '../common/auth/authenticated-user.js';
import type { ClientContext } from '../common/client-context.js';
import { Clock } from '../common/clock.js';
import { ApiError } from '../common/errors/api-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { OutboxSender } from '../mail/outbox-sender.js';
import type { User } from '../users/user.entity.js';
import { AccountRepository } from './account.repository.js';
import { MAIL_BUDGET_WINDOW_MS, MAILS_PER_ACCOUNT_PER_HOUR } from './mail-budget.js';
import { mailLink, verificationMail } from './mail-templates.js';
import { generateMailToken, hashMailToken, MAIL_TOKEN_PATTERN } from './mail-token-crypto.js';
import { MailTokensRepository } from './mail-tokens.repository.js';

/** How long this replica trusts an "unverified" it read, before asking the database again (see isVerified). */
const UNVERIFIED_MEMORY_MS = 1000;
const MEMORY_ENTRIES = 100_000;
/** /auth/me does not wait on a slow or frozen database for this: past it, the token's word stands. */
const LOOKUP_TIMEOUT_MS = 500;

function withinMs<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ms);
  });
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Verification of the account's email address: the mail (at registration, on request, and on a
 * login refused by REQUIRE_VERIFIED_EMAIL), the link's token, and the answer to "is it verified"
 * for /auth/me and introspection.
 */
@Injectable()
export class EmailVerification {
  /** Users known verified: verification is never undone, so this needs no expiry. */
  private readonly verified = new Set<string>();
  /** Users read unverified, and when. */
  private readonly unverified = new Map<string, number>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly accounts: AccountRepository,
    private readonly tokens: MailTokensRepository,
    private readonly sender: OutboxSender,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** Registration's hook: the first verification mail, in the transaction that creates the account. */
  readonly onRegistered = async (manager: EntityManager, user: User): Promise<void> => {
    await this.queue(manager, user.id, 'registration');
  };

  /** After a transaction that queued a mail committed: deliver it now rather than at the next poll. */
  mailQueued(): void {
    void this.sender.wake();
  }

  /**
   * POST /auth/email/verify/resend. Nothing is sent for an address already verified (202 all the same).
   * @throws ApiError 429 with Retry-After once the account's mail budget is spent
   */
  async resend(caller: AuthenticatedUser, client: ClientContext): Promise<void> {
    const outcome = await this.dataSource.transaction(async (manager) => {
      const account = await this.accounts.lock(manager, caller.id);
      if (account === undefined || account.disabled) throw ApiError.invalidToken();
      if (account.emailVerified) return 'verified';
      return (await this.queue(manager, account.id, 'requested', client)) ? 'queued' : 'over_budget';
    });
    if (outcome === 'queued') this.mailQueued();
    if (outcome === 'over_budget') {
      const now = this.clock.now().getTime();
      const oldest = await this.tokens.oldestMailSince(caller.id, new Date(now - MAIL_BUDGET_WINDOW_MS));
      throw ApiError.rateLimited(((oldest?.getTime() ?? now) + MAIL_BUDGET_WINDOW_MS - now) / 1000);
    }
  }

  /** A login with the right password, refused by REQUIRE_VERIFIED_EMAIL: a new link goes out, budget permitting. */
  async refusedLogin(user: Pick<User, 'id'>, client: ClientContext): Promise<void> {
    const queued = await this.dataSource.transaction(async (manager) => {
      await this.audit.record({ type: 'login_failed', userId: user.id, client, details: { reason: 'email_not_verified' } }, manager);
      const account = await this.accounts.lock(manager, user.id);
      return account !== undefined && !account.emailVerified && (await this.queue(manager, user.id, 'login_refused', client));
    });
    if (queued) this.mailQueued();
  }

  /** POST /auth/email/verify: the token is spent and the address verified; every failure is audited. */
  async verify(token: string, client: ClientContext): Promise<void> {
    const now = this.clock.now();
    const tokenHash = hashMailToken(token);
    const presented = MAIL_TOKEN_PATTERN.test(token) ? await this.tokens.inspect(tokenHash, 'email_verification', now) : undefined;
    let failure = presented === undefined ? 'unknown' : presented.failure;
    if (presented !== undefined && failure === undefined) {
      const verified = await this.dataSource.transaction(async (manager) => {
        const account = await this.accounts.lock(manager, presented.userId);
        if (account === undefined || !(await this.tokens.consume(manager, tokenHash, 'email_verification', presented.userId, now))) return false;
        await this.accounts.markEmailVerified(manager, account.id);
        await this.tokens.voidAll(manager, account.id, 'email_verification', now);
        await this.audit.record({ type: 'email_verified', userId: account.id, client }, manager);
        return true;
      });
      if (verified) {
        this.remember(presented.userId, true);
        return;
      }
      failure = 'used';
    }
    await this.audit.record({
      type: 'email_verification_failed',
      userId: presented?.userId ?? null,
      client,
      details: { reason: failure ?? 'unknown' },
    });
    throw ApiError.invalidMailToken();
  }

  /**
   * Whether the user's address is verified, for /auth/me and introspection. A token that says so
   * is believed (verification is never undone); one that says not (issued before the link was
   * opened) is checked against the database, at most once a second per user on this replica
   * (`fresh`: always), so /auth/me stays free of queries for verified users.
   */
  async isVerified(userId: string, claim: boolean | undefined, fresh = false): Promise<boolean> {
    if (claim === true || this.verified.has(userId)) return true;
    const now = this.clock.now().getTime();
    const checkedAt = this.unverified.get(userId);
    if (!fresh && checkedAt !== undefined && now - checkedAt < UNVERIFIED_MEMORY_MS) return false;
    let verified: boolean;
    try {
      verified = fresh ? await this.accounts.isEmailVerified(userId) : await withinMs(this.accounts.isEmailVerified(userId), LOOKUP_TIMEOUT_MS);
    } catch (error) {
      // /auth/me keeps working while the database is down: the token's word then.
      if (fresh) throw error;
      return false;
    }
    this.remember(userId, verified, now);
    return verified;
  }

  private remember(userId: string, verified: boolean, now = this.clock.now().getTime()): void {
    if (verified) {
      this.unverified.delete(userId);
      if (this.verified.size >= MEMORY_ENTRIES) this.verified.delete(this.verified.values().next().value!);
      this.verified.add(userId);
    } else {
      this.unverified.delete(userId);
      if (this.unverified.size >= MEMORY_ENTRIES) this.unverified.delete(this.unverified.keys().next().value!);
      this.unverified.set(userId, now);
    }
  }

  /** A verification token and its mail, within the account's mail budget; the caller holds the account's row. */
  private async queue(manager: EntityManager, userId: string, reason: string, client?: ClientContext): Promise<boolean> {
    const { publicUrl, emailVerificationTtlSeconds } = this.config.mail;
    const at = this.clock.now();
    const expiresAt = new Date(at.getTime() + emailVerificationTtlSeconds * 1000);
    const token = generateMailToken();
    const content = verificationMail(mailLink(publicUrl, 'verify-email', token), emailVerificationTtlSeconds);
    return this.tokens.issue(manager, {
      userId,
      purpose: 'email_verification',
      tokenId: randomUUID(),
      tokenHash: hashMailToken(token),
      at,
      expiresAt,
      voidOlder: false,
      mailsPerHour: MAILS_PER_ACCOUNT_PER_HOUR,
      mail: { id: randomUUID(), subject: content.subject, text: content.text, html: content.html, at, expiresAt },
      audit: { type: 'email_verification_sent', userId, client, details: { reason } },
    });
  }
}
