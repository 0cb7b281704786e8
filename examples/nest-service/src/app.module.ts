import { Module, type DynamicModule } from '@nestjs/common';
// In your own service: from '@auth-service/verifier/nest'
import { VerifierModule } from '../../../packages/verifier/src/nest.js';
import { OrdersController } from './orders.controller.js';

/** A service protected by the verifier kit: every route needs an auth-service access token. */
@Module({})
export class OrdersModule {
  /**
   * @param issuer the service's JWT_ISSUER, normally its public URL
   * @param feedCredentials a service client's credentials (client_secret_basic: POST /admin/clients, or INTROSPECTION_CLIENTS) for the revocation feed;
   *   without them, revoked tokens are refused only once they expire
   */
  static forRoot(authServiceUrl: string, issuer = authServiceUrl, feedCredentials?: { clientId: string; clientSecret: string }): DynamicModule {
    return {
      module: OrdersModule,
      imports: [
        VerifierModule.forRoot({
          issuer,
          audience: 'auth-service',
          jwksUri: `${authServiceUrl}/.well-known/jwks.json`,
          revocation: feedCredentials && { feedUri: `${authServiceUrl}/.well-known/revocations`, ...feedCredentials },
        }),
      ],
      controllers: [OrdersController],
    };
  }
}
