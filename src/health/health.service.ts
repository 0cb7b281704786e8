import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { KeysService } from '../keys/keys.service.js';

@Injectable()
export class HealthService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly keys: KeysService,
  ) {}

  /** Why the service cannot serve, or undefined when it can. */
  async readinessProblem(): Promise<string | undefined> {
    if (!this.keys.hasSigningKey()) return 'No signing key loaded';
    try {
      await this.dataSource.query('SELECT 1');
      return undefined;
    } catch {
      return 'Database unreachable';
    }
  }
}
