import { Controller, Get } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error.js';
import { HealthService } from './health.service.js';

@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** The process is up; never touches a dependency, so a slow database cannot get pods killed. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(): Promise<{ status: 'ok' }> {
    if (!(await this.health.isDatabaseReachable())) throw ApiError.serviceUnavailable('Database unreachable');
    return { status: 'ok' };
  }
}
