import type { FastifyReply, FastifyRequest } from 'fastify';

const COOKIE_NAME = 'login_device';
// Sent only with login attempts, the one place it means anything.
const COOKIE_PATH = '/auth/login';

/**
 * The trusted-device proof travels as a cookie, as OWASP's device-cookie pattern has it: browsers
 * keep it by themselves, and any HTTP client can send it back in a Cookie header.
 */
export const DeviceCookie = {
  read(request: FastifyRequest): string | undefined {
    return request.cookies[COOKIE_NAME];
  },

  set(reply: FastifyReply, proof: string, maxAgeSeconds: number): void {
    void reply.setCookie(COOKIE_NAME, proof, { httpOnly: true, secure: true, sameSite: 'strict', path: COOKIE_PATH, maxAge: maxAgeSeconds });
  },
};
