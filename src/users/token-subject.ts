import type { User } from './user.entity.js';

/** What an access token says about its user, and the token generation it is issued under. */
export type TokenSubject = Pick<User, 'id' | 'email' | 'roles' | 'tokenGeneration'> & Partial<Pick<User, 'emailVerified'>>;
