import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { UsersService } from './users.service.js';

/** Honours BOOTSTRAP_ADMIN_EMAIL/PASSWORD once: only while no active admin exists. */
@Injectable()
export class AdminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminBootstrap.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly users: UsersService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.bootstrapAdmin === undefined) return;
    const { email, password } = this.config.bootstrapAdmin;
    const outcome = await this.users.createAdmin(email, password, { onlyIfNoAdmin: true, via: 'bootstrap' });
    if (outcome === 'email_taken') {
      this.logger.error(`BOOTSTRAP_ADMIN_EMAIL names an existing account, which is not promoted; create the admin with another email`);
    }
  }
}
