import { Controller, Delete, Get, HttpCode, Param } from '@nestjs/common';
// In your own service: from '@auth-service/verifier/nest'
import { AccessToken, Public, Roles } from '../../../packages/verifier/src/nest.js';
import type { VerifiedToken } from '../../../packages/verifier/src/index.js';

@Controller()
export class OrdersController {
  @Public()
  @Get('healthz')
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Any valid, unrevoked access token. */
  @Get('orders')
  list(@AccessToken() token: VerifiedToken): { owner: string; orders: string[] } {
    return { owner: token.sub, orders: [] };
  }

  /** Admins only. */
  @Roles('admin')
  @Delete('orders/:id')
  @HttpCode(204)
  remove(@Param('id') _id: string): void {}
}
