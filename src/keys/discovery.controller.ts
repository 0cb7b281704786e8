import { ApiTags } from '@nestjs/swagger';
import { Controller, Get, Headers, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/auth/public.decorator.js';
import { prepareDocument, sendPreparedDocument, type PreparedDocument } from '../common/prepared-document.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';

const DISCOVERY_MAX_AGE_SECONDS = 3600;

/**
 * RFC 8414 authorization-server metadata, also served at the OpenID Connect discovery path that
 * most verifiers and sidecars look up. Built once from the configuration.
 */
export function discoveryDocument(issuer: string): Record<string, unknown> {
  const base = issuer.replace(/\/$/, '');
  return {
    issuer,
    jwks_uri: `${base}/.well-known/jwks.json`,
    token_endpoint: `${base}/auth/login`,
    revocation_endpoint: `${base}/auth/revoke`,
    introspection_endpoint: `${base}/auth/introspect`,
    grant_types_supported: ['password', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_signing_alg_values_supported: ['RS256'],
  };
}

@ApiTags('keys')
@Public()
@Controller('.well-known')
export class DiscoveryController {
  private readonly document: PreparedDocument;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.document = prepareDocument(JSON.stringify(discoveryDocument(config.tokens.issuer)));
  }

  @Get('openid-configuration')
  openidConfiguration(@Headers('if-none-match') ifNoneMatch: string | undefined, @Res() reply: FastifyReply): void {
    this.send(ifNoneMatch, reply);
  }

  @Get('oauth-authorization-server')
  authorizationServer(@Headers('if-none-match') ifNoneMatch: string | undefined, @Res() reply: FastifyReply): void {
    this.send(ifNoneMatch, reply);
  }

  private send(ifNoneMatch: string | undefined, reply: FastifyReply): void {
    sendPreparedDocument(reply, ifNoneMatch, this.document, { maxAgeSeconds: DISCOVERY_MAX_AGE_SECONDS, contentType: 'application/json' });
  }
}
