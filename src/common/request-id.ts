import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const assigned = new WeakMap<IncomingMessage, string>();

/**
 * The request's id: the caller's X-Request-Id when it is a sane token, else a new UUID. Fastify
 * (request.id, errors) and pino-http (log lines) both ask; the first answer is kept for the other.
 */
export function requestIdOf(request: IncomingMessage): string {
  let id = assigned.get(request);
  if (id === undefined) {
    const incoming = request.headers['x-request-id'];
    id = typeof incoming === 'string' && ACCEPTABLE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    assigned.set(request, id);
  }
  return id;
}
