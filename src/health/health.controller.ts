import { ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Controller, Get } from '@nestjs/common';
import { Public } from '../common/auth/public.decorator.js';
import { ApiError } from '../common/errors/api-error.js';
import { HealthService } from './health.service.js';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** The process is up; never touches a dependency, so a slow database cannot get pods killed. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready to serve tokens: the database answers and a signing key is loaded. */
  @Get('ready')
  @ApiServiceUnavailableResponse({ description: 'Database unreachable or no signing key loaded' })
  async ready(): Promise<{ status: 'ok' }> {
    const problem = await this.health.readinessProblem();
    if (problem !== undefined) throw ApiError.serviceUnavailable(problem);
    return { status: 'ok' };
  }
}
