import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { AppConfig } from '../config/app-config.js';

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
      .addServer(config.tokens.issuer)
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .addBasicAuth({ type: 'http', scheme: 'basic', description: 'Service client credentials (client_secret_basic): client_id and client_secret' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
