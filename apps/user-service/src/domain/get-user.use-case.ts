import { AppError } from '@te/platform';
import type { UserStore } from './ports.js';
import type { User } from './user.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function getUser(id: string, deps: { users: UserStore }): Promise<User> {
  if (!UUID.test(id))
    throw new AppError('VALIDATION_FAILED', 'User id is invalid', {
      fields: [{ field: 'id', message: 'must be a UUID' }],
    });
  const user = await deps.users.findById(id);
  if (!user) throw new AppError('NOT_FOUND', 'User not found');
  return user;
}
