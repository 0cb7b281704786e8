import { Inject, Injectable } from '@nestjs/common';
import { EmailVerification } from '../account/email-verification.service.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { AuditService } from '../audit/audit.service.js';
import type { ClientContext } from '../common/client-context.js';
import { ApiError } from '../common/errors/api-error.js';
import { REFRESH_TOKEN_PATTERN } from '../sessions/refresh-token-crypto.js';
import { Revocations } from '../sessions/revocations.js';
import { SessionsService, type IssuedRefreshToken } from '../sessions/sessions.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { MfaService } from '../mfa/mfa.service.js';
import { LoginThrottle } from '../throttle/login-throttle.service.js';
import { TrustedDevices } from '../throttle/trusted-devices.js';
import { PasswordHasher } from '../users/password-hasher.service.js';
import type { User } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';
import { AccessTokenService, isClientToken } from './access-token.service.js';
import type { TokenResponseDto } from './dto/token-response.dto.js';

// Each retry means an admin changed this user during the login; a few in a row only under attack.
const MAX_SESSION_OPENING_ATTEMPTS = 3;

export interface LoginResult {
  readonly tokens: TokenResponseDto;
  /** A device proof for a client that had none, to be handed over as the login_device cookie. */
  readonly newDevice?: { readonly proof: string; readonly maxAgeSeconds: number };
}

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly passwords: PasswordHasher,
    private readonly sessions: SessionsService,
    private readonly revocations: Revocations,
    private readonly accessTokens: AccessTokenService,
    private readonly audit: AuditService,
    private readonly throttle: LoginThrottle,
    private readonly devices: TrustedDevices,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly verification: EmailVerification,
    private readonly mfa: MfaService,
  ) {}

  /**
   * One answer, and the same argon2 work, whether the email is unknown, the password wrong or the
   * account disabled: the response tells an attacker nothing about which accounts exist. The login
   * throttle is consulted first, for unknown emails too, and a hash made with older parameters or
   * of the password's raw (not NFKC) form is replaced while the password is at hand. A client that
   * did not present a live device proof of this account gets one.
   * @param email already in canonical form (see normalizeEmail)
   * @param deviceProof the login_device cookie, if the client sent one
   */
  async login(email: string, password: string, client: ClientContext, deviceProof?: string): Promise<LoginResult> {
    const attempt = await this.throttle.reserve(email, { ip: client.ip, deviceProof });
    const user = await this.users.findByEmail(email);
    const outcome = user === null ? await this.passwords.verifyAgainstDummy(password) : await this.passwords.verify(user.passwordHash, password);
    const passwordMatches = outcome === 'match' || outcome === 'legacy';
    if (user === null || !passwordMatches || user.disabled) {
      // The attempted email is not recorded: users type passwords into the wrong field.
      const reason = user === null ? 'unknown_account' : user.disabled ? 'account_disabled' : 'wrong_password';
      await this.audit.record({ type: 'login_failed', userId: user?.id ?? null, client, details: { reason } });
      this.metrics.logins.inc({ outcome: 'failure' });
      throw ApiError.invalidCredentials(reason);
    }
    // With a second factor the attempt stays counted until the second step succeeds: a right
    // password must not clear the failures of wrong codes tried in between.
    const secondFactor = await this.mfa.isActive(user.id);
    if (!secondFactor) await this.throttle.succeeded(attempt);
    if (this.config.mail.requireVerifiedEmail && !user.emailVerified) {
      // Only after the password matched: a wrong one gets the same 401 as always, so this says nothing to a guesser.
      await this.verification.refusedLogin(user, client);
      this.metrics.logins.inc({ outcome: 'failure' });
      throw ApiError.emailNotVerified();
    }
    let verifiedHash = user.passwordHash;
    if (outcome === 'legacy' || this.passwords.needsRehash(user.passwordHash)) {
      const rehashed = await this.passwords.hash(password);
      if (await this.users.setPasswordHash(user.id, rehashed, user.passwordHash)) verifiedHash = rehashed;
    }
    if (secondFactor) {
      // No session yet: only a short-lived, single-use token for POST /auth/login/mfa.
      const challenge = await this.mfa.openChallenge(user.id, verifiedHash, attempt);
      throw ApiError.mfaRequired(challenge.token, challenge.expiresIn);
    }
    const tokens = await this.openSession(user, verifiedHash, client);
    this.metrics.logins.inc({ outcome: 'success' });
    return { tokens, newDevice: attempt.budgeted ? await this.devices.trust(user.id) : undefined };
  }

  /**
   * A login's second step: the mfa_token of the first and a TOTP or unused recovery code. Each try
   * is counted by the login throttle like a password; a success spends the token and the code
   * together and opens the session under the password hash the first step verified.
   * @throws ApiError 400 invalid_grant, 429
   */
  async loginWithSecondFactor(mfaToken: string, code: string, client: ClientContext, deviceProof?: string): Promise<LoginResult> {
    const challenge = await this.mfa.findChallenge(mfaToken);
    if (challenge === undefined) throw ApiError.invalidSecondFactor();
    const user = await this.users.findById(challenge.userId);
    if (user === null || user.disabled) throw ApiError.invalidSecondFactor();
    const attempt = await this.throttle.reserve(user.email, { ip: client.ip, deviceProof });
    const factor = await this.mfa.redeem(challenge, code);
    if (factor === undefined) {
      await this.audit.record({ type: 'mfa_challenge_failed', userId: user.id, client });
      this.metrics.logins.inc({ outcome: 'failure' });
      throw ApiError.invalidSecondFactor();
    }
    await this.throttle.succeeded(attempt);
    await this.throttle.succeeded(challenge.firstAttempt);
    if (factor === 'recovery_code') await this.audit.record({ type: 'mfa_recovery_code_used', userId: user.id, client });
    const tokens = await this.openSession(user, challenge.passwordHash, client, ['pwd', 'otp']);
    this.metrics.logins.inc({ outcome: 'success' });
    return { tokens, newDevice: attempt.budgeted ? await this.devices.trust(user.id) : undefined };
  }

  /**
   * The session opens only under the user's generation the tokens were signed with: if an admin
   * changed the user meanwhile, the user is read again and the tokens signed anew, or the login
   * refused if the account is now disabled.
   */
  private async openSession(user: User, passwordHash: string, client: ClientContext, amr: readonly string[] = ['pwd']): Promise<TokenResponseDto> {
    let subject: User | null = user;
    // A password changed or reset since it was checked ends the attempt: the session opens only under the hash verified.
    for (let attempt = 0; attempt < MAX_SESSION_OPENING_ATTEMPTS && subject !== null && !subject.disabled; attempt++) {
      const tokens = await this.sessions.start(subject, client, this.issueTokens, { passwordHash, amr });
      if (tokens !== undefined) return tokens;
      subject = await this.users.findById(user.id);
      if (subject?.passwordHash !== passwordHash) break;
    }
    throw ApiError.invalidCredentials();
  }

  refresh(refreshToken: string, client: ClientContext): Promise<TokenResponseDto> {
    return this.sessions.rotate(refreshToken, client, this.issueTokens);
  }

  logout(refreshToken: string, client: ClientContext): Promise<void> {
    return this.sessions.revokeByRefreshToken(refreshToken, 'logout', client);
  }

  /**
   * RFC 7009: a refresh token or an access token ends its session; holding the token is the
   * authority to end it. Unknown, foreign and expired tokens change nothing and say nothing.
   */
  async revoke(token: string, client: ClientContext): Promise<void> {
    if (REFRESH_TOKEN_PATTERN.test(token)) return this.sessions.revokeByRefreshToken(token, 'revoked_by_client', client);
    let sessionId: string;
    try {
      const claims = this.accessTokens.verify(token);
      // A service client's token has no session; TokenRevocationService revokes it by itself.
      if (isClientToken(claims)) return;
      sessionId = claims.sid;
    } catch {
      return;
    }
    await this.revocations.transaction((revoke) => this.sessions.revokeSession(revoke, sessionId, 'revoked_by_client', client));
  }

  private readonly issueTokens = ({ user, sessionId, refreshToken, refreshExpiresIn, amr }: IssuedRefreshToken): TokenResponseDto => {
    const accessToken = this.accessTokens.issue(user, sessionId, amr);
    return {
      access_token: accessToken.token,
      token_type: 'Bearer',
      expires_in: accessToken.expiresIn,
      refresh_token: refreshToken,
      refresh_expires_in: refreshExpiresIn,
    };
  };
}
