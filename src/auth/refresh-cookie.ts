import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../common/errors/api-error.js';
import { allowedBrowserOrigins } from '../common/http-hardening.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type { TokenResponseDto } from './dto/token-response.dto.js';

const COOKIE_NAME = 'refresh_token';
// Sent only to the routes that consume it, never to the rest of the origin.
const COOKIE_PATH = '/auth';

/** Cookie mode (REFRESH_TOKEN_COOKIE=true): the refresh token also travels as an HttpOnly cookie. */
@Injectable()
export class RefreshCookie {
  private readonly enabled: boolean;
  private readonly allowedOrigins: Set<string>;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.enabled = config.tokens.refreshCookie;
    this.allowedOrigins = allowedBrowserOrigins(config);
  }

  /**
   * The token from the body, else (in cookie mode) from the cookie. A cookie is sent by the
   * browser whoever made the page, so it counts only from an allowed Origin (CSRF defence on top
   * of SameSite=Strict); browsers always send Origin on a POST.
   */
  read(request: FastifyRequest, fromBody: string | undefined): string | undefined {
    if (fromBody !== undefined || !this.enabled) return fromBody;
    const fromCookie = request.cookies[COOKIE_NAME];
    if (fromCookie !== undefined && !this.allowedOrigins.has(request.headers.origin ?? '')) {
      throw ApiError.originNotAllowed('The refresh cookie is accepted only from an allowed Origin');
    }
    return fromCookie;
  }

  set(reply: FastifyReply, tokens: TokenResponseDto): void {
    if (!this.enabled) return;
    void reply.setCookie(COOKIE_NAME, tokens.refresh_token, {
      httpOnly: true,
      secure: true,
      sameSite: 'strict',
      path: COOKIE_PATH,
      maxAge: tokens.refresh_expires_in,
    });
  }

  clear(reply: FastifyReply): void {
    if (!this.enabled) return;
    void reply.clearCookie(COOKIE_NAME, { httpOnly: true, secure: true, sameSite: 'strict', path: COOKIE_PATH });
  }
}
