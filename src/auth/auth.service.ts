import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { ClientContext } from '../common/client-context.js';
import { ApiError } from '../common/errors/api-error.js';
import { SessionsService, type IssuedRefreshToken } from '../sessions/sessions.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ThrottleService } from '../throttle/throttle.service.js';
import { PasswordHasher } from '../users/password-hasher.service.js';
import { UsersService } from '../users/users.service.js';
import { AccessTokenService } from './access-token.service.js';
import type { TokenResponseDto } from './dto/token-response.dto.js';

export function invalidCredentials(): ApiError {
  return new ApiError(401, 'invalid_credentials', 'Invalid email or password');
}

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly passwords: PasswordHasher,
    private readonly sessions: SessionsService,
    private readonly accessTokens: AccessTokenService,
    private readonly audit: AuditService,
    private readonly throttle: ThrottleService,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * One answer, and the same argon2 work, whether the email is unknown, the password wrong or the
   * account disabled: the response tells an attacker nothing about which accounts exist. The
   * account's tarpit is consulted first, for unknown emails too, and a hash made with older
   * parameters is replaced while the password is at hand.
   * @param email already in canonical form (see normalizeEmail)
   */
  async login(email: string, password: string, client: ClientContext): Promise<TokenResponseDto> {
    await this.throttle.reserveLoginAttempt(email);
    const user = await this.users.findByEmail(email);
    const passwordMatches =
      user === null ? await this.passwords.verifyAgainstDummy(password) : await this.passwords.verify(user.passwordHash, password);
    if (user === null || !passwordMatches || user.disabled) {
      // The attempted email is not recorded: users type passwords into the wrong field.
      const reason = user === null ? 'unknown_account' : user.disabled ? 'account_disabled' : 'wrong_password';
      await this.audit.record({ type: 'login_failed', userId: user?.id ?? null, client, details: { reason } });
      this.metrics.logins.inc({ outcome: 'failure' });
      throw invalidCredentials();
    }
    await this.throttle.loginSucceeded(email);
    this.metrics.logins.inc({ outcome: 'success' });
    if (this.passwords.needsRehash(user.passwordHash)) await this.users.setPasswordHash(user.id, await this.passwords.hash(password));
    return this.sessions.start(user, client, this.issueTokens);
  }

  refresh(refreshToken: string, client: ClientContext): Promise<TokenResponseDto> {
    return this.sessions.rotate(refreshToken, client, this.issueTokens);
  }

  logout(refreshToken: string, client: ClientContext): Promise<void> {
    return this.sessions.revokeByRefreshToken(refreshToken, 'logout', client);
  }

  private readonly issueTokens = ({ user, sessionId, refreshToken, refreshExpiresIn }: IssuedRefreshToken): TokenResponseDto => {
    const accessToken = this.accessTokens.issue(user, sessionId);
    return {
      access_token: accessToken.token,
      token_type: 'Bearer',
      expires_in: accessToken.expiresIn,
      refresh_token: refreshToken,
      refresh_expires_in: refreshExpiresIn,
    };
  };
}
