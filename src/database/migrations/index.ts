import { CreateUsers1764000000000 } from './1764000000000-CreateUsers.js';

/** Listed explicitly, oldest first: no glob, so the compiled app, the CLI and the tests load the same set. */
export const migrations = [CreateUsers1764000000000];
