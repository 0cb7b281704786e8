import { CreateUsers1764000000000 } from './1764000000000-CreateUsers.js';
import { CreateSessionsAndSigningKeys1795489542992 } from './1795489542992-CreateSessionsAndSigningKeys.js';

/** Listed explicitly, oldest first: no glob, so the compiled app, the CLI and the tests load the same set. */
export const migrations = [CreateUsers1764000000000, CreateSessionsAndSigningKeys1795489542992];
