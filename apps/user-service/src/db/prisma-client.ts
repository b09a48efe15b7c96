import { createPgAdapter, type DatabaseOptions } from '@te/database';
import { PrismaClient } from './generated/prisma/client.js';

export type UserDb = PrismaClient;

/** This service's generated client over its own database (te_user). */
export function createUserDb(options: DatabaseOptions) {
  const { adapter, pool } = createPgAdapter(options);
  return { db: new PrismaClient({ adapter }), pool };
}
