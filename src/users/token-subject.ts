import type { User } from './user.entity.js';

/** What an access token says about its user, and the cutoff that dates it. */
export type TokenSubject = Pick<User, 'id' | 'email' | 'roles' | 'tokensNotBefore'>;
