import { SetMetadata } from '@nestjs/common';

export const REQUIRED_ROLES = 'requiredRoles';

/** The caller's token must carry every listed role; on a class and a handler, both lists apply. */
export const Roles = (...roles: string[]): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_ROLES, roles);
