import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Access, Authenticated } from '../auth/access.decorator';
import { HealthService } from './health.service';

@ApiTags('health')
@Controller()
@Authenticated(Access.Public)
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** The process is alive. */
  @Get('healthz')
  liveness() {
    return { status: 'ok' };
  }

  /** The database is reachable and migrated (503 with the reason otherwise); a Redis outage is reported as `degraded`, still 200. */
  @Get('readyz')
  readiness() {
    return this.health.readiness();
  }
}
