import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error.js';
import { SessionsService, type ClientContext, type IssuedRefreshToken } from '../sessions/sessions.service.js';
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
  ) {}

  /**
   * One answer, and the same argon2 work, whether the email is unknown, the password wrong or the
   * account disabled: the response tells an attacker nothing about which accounts exist.
   * @param email already in canonical form (see normalizeEmail)
   */
  async login(email: string, password: string, client: ClientContext): Promise<TokenResponseDto> {
    const user = await this.users.findByEmail(email);
    const passwordMatches =
      user === null ? await this.passwords.verifyAgainstDummy(password) : await this.passwords.verify(user.passwordHash, password);
    if (user === null || !passwordMatches || user.disabled) throw invalidCredentials();
    return this.sessions.start(user, client, this.issueTokens);
  }

  refresh(refreshToken: string): Promise<TokenResponseDto> {
    return this.sessions.rotate(refreshToken, this.issueTokens);
  }

  logout(refreshToken: string): Promise<void> {
    return this.sessions.revokeByRefreshToken(refreshToken, 'logout');
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
