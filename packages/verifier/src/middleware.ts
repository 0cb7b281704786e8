import type { IncomingMessage, ServerResponse } from 'node:http';
import { VerifierError } from './errors.js';
import type { Verifier, VerifiedToken } from './verifier.js';

export interface GuardOptions {
  /** Every listed role must be in the token's `roles` claim. */
  readonly roles?: readonly string[];
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** Verifies the request's Bearer token and checks roles; the one check behind every adapter below. */
export async function authenticateRequest(verifier: Verifier, authorization: string | undefined, options: GuardOptions = {}): Promise<VerifiedToken> {
  const token = BEARER.exec(authorization ?? '')?.[1];
  if (token === undefined) throw new VerifierError('token_missing', 'A Bearer access token is required');
  const verified = await verifier.verify(token);
  if (!(options.roles ?? []).every((role) => verified.roles.includes(role))) {
    throw new VerifierError('insufficient_role', 'The access token lacks a required role');
  }
  return verified;
}

function refuse(response: ServerResponse, error: VerifierError): void {
  response.statusCode = error.status;
  response.setHeader('content-type', 'application/json');
  if (error.status === 401) response.setHeader('www-authenticate', 'Bearer error="invalid_token"');
  response.end(JSON.stringify({ statusCode: error.status, error: error.code, message: error.message }));
}

/**
 * Connect-style middleware for Express (and Fastify through @fastify/middie or @fastify/express):
 * `app.use(requireAccessToken(verifier))`. The verified token is left on `request.auth`.
 */
export function requireAccessToken(verifier: Verifier, options: GuardOptions = {}) {
  return (request: IncomingMessage & { auth?: VerifiedToken }, response: ServerResponse, next: (error?: unknown) => void): void => {
    authenticateRequest(verifier, request.headers.authorization, options).then(
      (verified) => {
        request.auth = verified;
        next();
      },
      (error: unknown) => (error instanceof VerifierError ? refuse(response, error) : next(error)),
    );
  };
}

/** Fastify `preHandler` hook: `fastify.addHook('preHandler', accessTokenHook(verifier))`. */
export function accessTokenHook(verifier: Verifier, options: GuardOptions = {}) {
  return async (
    request: { headers: { authorization?: string }; auth?: VerifiedToken },
    reply: { code(status: number): { send(body: unknown): unknown }; header(name: string, value: string): unknown },
  ): Promise<void> => {
    try {
      request.auth = await authenticateRequest(verifier, request.headers.authorization, options);
    } catch (error) {
      if (!(error instanceof VerifierError)) throw error;
      if (error.status === 401) reply.header('www-authenticate', 'Bearer error="invalid_token"');
      await reply.code(error.status).send({ statusCode: error.status, error: error.code, message: error.message });
    }
  };
}
