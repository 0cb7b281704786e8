import { Controller, Get } from '@nestjs/common';
import { Roles } from '../common/auth/roles.decorator.js';
import { KeysService, type SigningKeySummary } from './keys.service.js';

@Roles('admin')
@Controller('admin/keys')
export class KeysController {
  constructor(private readonly keys: KeysService) {}

  /** Every stored key's lifecycle; never any private material. */
  @Get()
  async list(): Promise<{ items: SigningKeySummary[] }> {
    return { items: await this.keys.list() };
  }
}
