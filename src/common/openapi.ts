import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { AppConfig } from '../config/app-config.js';
import { ErrorBodyDto } from './openapi-schemas.js';

const ERROR_RESPONSE = {
  description: 'An error: `{statusCode, error, message}` with a stable `error` code (see the README)',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBodyDto' } } },
};

/**
 * What every operation shares, said once instead of on each handler: the error shape of its 4xx
 * and 5xx answers, and an explicit empty `security` on the public ones (a route without a security
 * decorator is @Public(): the guard denies everything else).
 */
function withSharedResponses(document: OpenAPIObject): OpenAPIObject {
  for (const methods of Object.values(document.paths)) {
    for (const operation of Object.values(methods) as Array<{ responses: Record<string, unknown>; security?: unknown[] }>) {
      if (typeof operation !== 'object' || operation === null || !('responses' in operation)) continue;
      operation.security ??= [];
      if (!Object.keys(operation.responses).some((status) => status.startsWith('4'))) operation.responses['4XX'] = ERROR_RESPONSE;
      operation.responses['5XX'] ??= ERROR_RESPONSE;
    }
  }
  return document;
}

/** The OpenAPI document at /docs-json and its UI at /docs, generated from the controllers and DTOs. */
export function serveOpenApi(app: NestFastifyApplication, config: AppConfig): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('auth-service')
      .setDescription(
        'Users, RS256 access tokens, rotating refresh tokens, JWKS, revocation and admin routes; an OAuth 2.0 token endpoint ' +
          '(refresh_token, client_credentials) and service clients. /oauth/token takes application/x-www-form-urlencoded only; ' +
          '/auth/introspect and /auth/revoke take it as well as JSON. Client authentication there: HTTP Basic (client_secret_basic), ' +
          'or client_id with client_secret (client_secret_post) or client_assertion (private_key_jwt, RFC 7523) in the body.',
      )
      .setVersion('1')
      .setLicense('UNLICENSED', 'https://docs.npmjs.com/cli/configuring-npm/package-json#license')
      .addServer(config.tokens.issuer)
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .addBasicAuth({ type: 'http', scheme: 'basic', description: 'Service client credentials (client_secret_basic): client_id and client_secret' })
      .build(),
    { extraModels: [ErrorBodyDto] },
  );
  SwaggerModule.setup('docs', app, withSharedResponses(document), { jsonDocumentUrl: 'docs-json' });
}
