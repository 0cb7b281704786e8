import {
  createParamDecorator,
  HttpException,
  Inject,
  Injectable,
  Module,
  SetMetadata,
  type CanActivate,
  type DynamicModule,
  type ExecutionContext,
  type OnModuleDestroy,
} from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { VerifierError } from './errors.js';
import { authenticateRequest } from './middleware.js';
import { createVerifier, type Verifier, type VerifierOptions, type VerifiedToken } from './verifier.js';

export const VERIFIER = Symbol('AUTH_SERVICE_VERIFIER');
const ROLES = 'authServiceVerifierRoles';
const PUBLIC = 'authServiceVerifierPublic';

/** Every listed role is required; on a class and a handler, both lists apply. */
export const Roles = (...roles: string[]): MethodDecorator & ClassDecorator => SetMetadata(ROLES, roles);
/** Opts a route out of the guard, which otherwise protects every route. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC, true);
/** The verified token of the current request. */
export const AccessToken = createParamDecorator(
  (_data: unknown, context: ExecutionContext): VerifiedToken => context.switchToHttp().getRequest<{ auth: VerifiedToken }>().auth,
);

/** Deny by default: 401 without a valid, unrevoked token; 403 without a required role. */
@Injectable()
export class VerifierGuard implements CanActivate {
  constructor(
    @Inject(VERIFIER) private readonly verifier: Verifier,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<{ headers: { authorization?: string }; auth?: VerifiedToken }>();
    try {
      request.auth = await authenticateRequest(this.verifier, request.headers.authorization, {
        roles: this.reflector.getAllAndMerge<string[]>(ROLES, targets),
      });
      return true;
    } catch (error) {
      if (!(error instanceof VerifierError)) throw error;
      throw new HttpException({ statusCode: error.status, error: error.code, message: error.message }, error.status);
    }
  }
}

@Injectable()
class VerifierLifecycle implements OnModuleDestroy {
  constructor(@Inject(VERIFIER) private readonly verifier: Verifier) {}
  onModuleDestroy(): void {
    this.verifier.close();
  }
}

/** `imports: [VerifierModule.forRoot({ issuer, audience, jwksUri })]` protects every route of the app. */
@Module({})
export class VerifierModule {
  static forRoot(options: VerifierOptions): DynamicModule {
    return {
      module: VerifierModule,
      global: true,
      providers: [
        { provide: VERIFIER, useFactory: () => createVerifier(options) },
        { provide: APP_GUARD, useClass: VerifierGuard },
        VerifierLifecycle,
      ],
      exports: [VERIFIER],
    };
  }
}
