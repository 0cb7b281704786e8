import { DiscoveryDto } from './dto/key-responses.dto.js';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Controller, Get, Headers, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { CLIENT_ASSERTION_ALGORITHMS } from '../clients/client-keys.js';
import { Public } from '../common/auth/public.decorator.js';
import { prepareDocument, sendPreparedDocument, type PreparedDocument } from '../common/prepared-document.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';

const DISCOVERY_MAX_AGE_SECONDS = 3600;

/** Client authentication the token, introspection and revocation endpoints take (see ClientAuthenticator). */
const CONFIDENTIAL_CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];

/**
 * RFC 8414 authorization-server metadata, also served at the OpenID Connect discovery path that
 * most verifiers and sidecars look up. Built once from the configuration. It names only what
 * exists: no ID tokens are issued, so no `id_token_signing_alg_values_supported`; no authorization
 * endpoint, so no `authorization_endpoint`.
 */
export function discoveryDocument(issuer: string): Record<string, unknown> {
  const base = issuer.replace(/\/$/, '');
  return {
    issuer,
    jwks_uri: `${base}/.well-known/jwks.json`,
    token_endpoint: `${base}/oauth/token`,
    revocation_endpoint: `${base}/auth/revoke`,
    introspection_endpoint: `${base}/auth/introspect`,
    grant_types_supported: ['refresh_token', 'client_credentials'],
    // RFC 8414 §2 makes response_types_supported REQUIRED, and §3.2 says a member with zero
    // elements MUST be omitted, so `[]` is not an option either. Its values are RFC 7591's
    // response_types, which §2.1 there maps to each grant: client_credentials and refresh_token
    // use "(none)", no response type at all. The registered response type "none" (OAuth 2.0
    // Multiple Response Type Encoding Practices §4) is the one that issues nothing, which is
    // exactly what this server does at the authorization endpoint it does not have; "code" or
    // "token" would announce flows that do not exist.
    response_types_supported: ['none'],
    // `none`: the first-party public client (FIRST_PARTY_CLIENT_ID) refreshing or revoking its sessions.
    token_endpoint_auth_methods_supported: [...CONFIDENTIAL_CLIENT_AUTH_METHODS, 'none'],
    token_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGORITHMS,
    introspection_endpoint_auth_methods_supported: CONFIDENTIAL_CLIENT_AUTH_METHODS,
    introspection_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGORITHMS,
    revocation_endpoint_auth_methods_supported: [...CONFIDENTIAL_CLIENT_AUTH_METHODS, 'none'],
    revocation_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGORITHMS,
    subject_types_supported: ['public'],
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

  @ApiOperation({ summary: 'Discovery metadata (OpenID path)' })
  @ApiOkResponse({ type: DiscoveryDto })
  @Get('openid-configuration')
  openidConfiguration(@Headers('if-none-match') ifNoneMatch: string | undefined, @Res() reply: FastifyReply): void {
    this.send(ifNoneMatch, reply);
  }

  @ApiOperation({ summary: 'Authorization server metadata (RFC 8414)' })
  @ApiOkResponse({ type: DiscoveryDto })
  @Get('oauth-authorization-server')
  authorizationServer(@Headers('if-none-match') ifNoneMatch: string | undefined, @Res() reply: FastifyReply): void {
    this.send(ifNoneMatch, reply);
  }

  private send(ifNoneMatch: string | undefined, reply: FastifyReply): void {
    sendPreparedDocument(reply, ifNoneMatch, this.document, { maxAgeSeconds: DISCOVERY_MAX_AGE_SECONDS, contentType: 'application/json' });
  }
}
