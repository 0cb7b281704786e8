import { User } from '../users/user.entity.js';

export const entities = [User];
