import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { QueryFailedError, Repository } from 'typeorm';
import { ApiError } from '../common/errors/api-error.js';
import { PasswordHasher } from './password-hasher.service.js';
import { User } from './user.entity.js';

const UNIQUE_VIOLATION = '23505';

function isUniqueViolation(error: unknown): boolean {
  return error instanceof QueryFailedError && (error.driverError as { code?: string }).code === UNIQUE_VIOLATION;
}

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly passwords: PasswordHasher,
  ) {}

  /**
   * Creates an account with the default role. The unique index, not a prior look-up, decides a
   * taken email, so two concurrent registrations of one address cannot both succeed.
   * @param email already in canonical form (see normalizeEmail)
   */
  async register(email: string, password: string): Promise<User> {
    const passwordHash = await this.passwords.hash(password);
    try {
      return await this.users.save(this.users.create({ email, passwordHash }));
    } catch (error) {
      if (isUniqueViolation(error)) throw ApiError.conflict('An account with this email already exists');
      throw error;
    }
  }

  /** @param email already in canonical form (see normalizeEmail) */
  findByEmail(email: string): Promise<User | null> {
    return this.users.findOneBy({ email });
  }
}
