import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type { TokenResponseDto } from './dto/token-response.dto.js';

const COOKIE_NAME = 'refresh_token';
// Sent only to the routes that consume it, never to the rest of the origin.
const COOKIE_PATH = '/auth';

/** Cookie mode (REFRESH_TOKEN_COOKIE=true): the refresh token also travels as an HttpOnly cookie. */
@Injectable()
export class RefreshCookie {
  private readonly enabled: boolean;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.enabled = config.tokens.refreshCookie;
  }

  /** The token from the body, else (in cookie mode) from the cookie. */
  read(request: FastifyRequest, fromBody: string | undefined): string | undefined {
    return fromBody ?? (this.enabled ? request.cookies[COOKIE_NAME] : undefined);
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
