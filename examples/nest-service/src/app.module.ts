import { Module, type DynamicModule } from '@nestjs/common';
// In your own service: from '@auth-service/verifier/nest'
import { VerifierModule } from '../../../packages/verifier/src/nest.js';
import { OrdersController } from './orders.controller.js';

/** A service protected by the verifier kit: every route needs an auth-service access token. */
@Module({})
export class OrdersModule {
  /** @param issuer the service's JWT_ISSUER, normally its public URL */
  static forRoot(authServiceUrl: string, issuer = authServiceUrl): DynamicModule {
    return {
      module: OrdersModule,
      imports: [
        VerifierModule.forRoot({
          issuer,
          audience: 'auth-service',
          jwksUri: `${authServiceUrl}/.well-known/jwks.json`,
          revocation: { feedUri: `${authServiceUrl}/.well-known/revocations` },
        }),
      ],
      controllers: [OrdersController],
    };
  }
}
