import { HealthDto } from './dto/health.dto.js';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
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
  @ApiOperation({ summary: 'Liveness: the process runs' })
  @ApiOkResponse({ type: HealthDto })
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Ready to serve tokens: the database answers (within 2 s) and a signing key is loaded. A
   * revocation listener that is reconnecting leaves the replica ready (it resyncs every second
   * meanwhile) and is reported as `listener: "degraded"`.
   */
  @ApiOperation({ summary: 'Readiness: database reachable and a signing key loaded' })
  @ApiOkResponse({ type: HealthDto })
  @Get('ready')
  @ApiServiceUnavailableResponse({ description: 'Database unreachable or no signing key loaded' })
  async ready(): Promise<{ status: 'ok'; listener?: 'degraded' }> {
    const problem = await this.health.readinessProblem();
    if (problem !== undefined) throw ApiError.serviceUnavailable(problem);
    return this.health.listenerHealth() === 'ok' ? { status: 'ok' } : { status: 'ok', listener: 'degraded' };
  }
}
