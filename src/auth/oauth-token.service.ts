import { Injectable } from '@nestjs/common';
import type { OAuthCaller } from '../clients/client-authenticator.js';
import type { ClientContext } from '../common/client-context.js';
import { ApiError } from '../common/errors/api-error.js';
import { AccessTokenService } from './access-token.service.js';
import { AuthService } from './auth.service.js';
import type { ClientTokenResponseDto } from './dto/client-token-response.dto.js';
import type { TokenRequestDto } from './dto/token-request.dto.js';
import type { TokenResponseDto } from './dto/token-response.dto.js';

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), space-delimited. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * The token endpoint's grants. refresh_token is the very rotation of /auth/refresh (one
 * implementation: rotation, grace window, reuse detection), only its errors are RFC 6749's;
 * client_credentials issues a service client its own access token.
 */
@Injectable()
export class OAuthTokenService {
  constructor(
    private readonly auth: AuthService,
    private readonly accessTokens: AccessTokenService,
  ) {}

  async token(request: TokenRequestDto, caller: OAuthCaller, context: ClientContext): Promise<TokenResponseDto | ClientTokenResponseDto> {
    switch (request.grant_type) {
      case 'refresh_token':
        return this.refreshTokenGrant(request, caller, context);
      case 'client_credentials':
        return this.clientCredentialsGrant(request, caller);
      case 'password':
        // RFC 9700 §2.4: the resource owner password credentials grant MUST NOT be used.
        throw ApiError.unsupportedGrantType('The password grant is not offered (RFC 9700 §2.4); users sign in with POST /auth/login');
      default:
        throw ApiError.unsupportedGrantType('grant_type must be refresh_token or client_credentials');
    }
  }

  /**
   * Sessions opened by /auth/login belong to the first-party public client, so client
   * authentication is optional here; a service client may not refresh them (RFC 6749 §6: the
   * token must have been issued to the client that presents it).
   */
  private async refreshTokenGrant(request: TokenRequestDto, caller: OAuthCaller, context: ClientContext): Promise<TokenResponseDto> {
    if (request.refresh_token === undefined) throw ApiError.invalidRequest('refresh_token is required');
    if (caller.kind === 'confidential') throw ApiError.oauthInvalidGrant('The refresh token was not issued to this client');
    try {
      return await this.auth.refresh(request.refresh_token, context);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'invalid_grant') throw ApiError.oauthInvalidGrant();
      throw error;
    }
  }

  /** RFC 6749 §4.4: confidential clients only; the scopes asked for must be the client's (none asked: all of them). */
  private clientCredentialsGrant(request: TokenRequestDto, caller: OAuthCaller): ClientTokenResponseDto {
    if (caller.kind === 'anonymous') throw ApiError.invalidClient(false);
    if (caller.kind === 'public') throw ApiError.unauthorizedClient('The client credentials grant is for registered service clients');
    const { client } = caller;
    const requested = request.scope === undefined ? [] : request.scope.split(' ').filter((scope) => scope !== '');
    if (requested.some((scope) => !SCOPE_TOKEN.test(scope))) throw ApiError.invalidScope('scope is malformed');
    const unknown = requested.filter((scope) => !client.scopes.includes(scope));
    if (unknown.length > 0) throw ApiError.invalidScope('The client may not request some of these scopes');
    const granted = requested.length === 0 ? client.scopes : [...new Set(requested)];
    const token = this.accessTokens.issueForClient(client, granted);
    return { access_token: token.token, token_type: 'Bearer', expires_in: token.expiresIn, scope: granted.join(' ') };
  }
}
