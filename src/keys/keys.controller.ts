import { SigningKeySummaryDto } from './dto/key-responses.dto.js';
import { RotatedKeyDto } from './dto/key-responses.dto.js';
import { ListOf } from '../common/openapi-schemas.js';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Controller, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { CurrentUser, type AuthenticatedUser } from '../common/auth/authenticated-user.js';
import { Roles } from '../common/auth/roles.decorator.js';
import { KeysService, type SigningKeySummary } from './keys.service.js';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin/keys')
export class KeysController {
  constructor(private readonly keys: KeysService) {}

  /** Every stored key's lifecycle; never any private material. */
  @ApiOperation({ summary: 'List the signing keys (no private material)' })
  @ApiOkResponse({ type: ListOf(SigningKeySummaryDto) })
  @Get()
  async list(): Promise<{ items: SigningKeySummary[] }> {
    return { items: await this.keys.list() };
  }

  /** Accepted, not done: the new key is published now and signs only after KEY_PUBLISH_AHEAD. */
  @ApiOperation({ summary: 'Publish a new signing key, active after KEY_PUBLISH_AHEAD' })
  @ApiAcceptedResponse({ type: RotatedKeyDto })
  @Post('rotate')
  @HttpCode(HttpStatus.ACCEPTED)
  async rotate(@CurrentUser() actor: AuthenticatedUser): Promise<{ kid: string; state: 'next'; activates_at: Date }> {
    const key = await this.keys.rotate(`admin ${actor.id}`);
    return { kid: key.kid, state: 'next', activates_at: key.activatesAt };
  }
}
