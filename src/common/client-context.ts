import type { FastifyRequest } from 'fastify';

/** Where a request came from, as recorded on sessions and audit events. */
export interface ClientContext {
  readonly ip: string | null;
  readonly userAgent: string | null;
}

const USER_AGENT_MAX_LENGTH = 512;

/** `request.ip` honours X-Forwarded-For only from the proxies TRUST_PROXY names. */
export function clientContext(request: FastifyRequest): ClientContext {
  return { ip: request.ip, userAgent: request.headers['user-agent']?.slice(0, USER_AGENT_MAX_LENGTH) ?? null };
}
