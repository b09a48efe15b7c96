import { migrationFolderName, migrationTimestamp, normalizeMigrationName } from './migration-name.js';

describe('migration names', () => {
  test.each([
    ['init', 'init'],
    ['Add users table', 'add_users_table'],
    ['addUserEmail', 'add_user_email'],
    ['  --Crème brûlée!!  ', 'creme_brulee'],
    ['APIKeys v2', 'api_keys_v2'],
    ['users & roles', 'users_and_roles'],
  ])('When the name is %j, then it becomes %j as with prisma migrate dev', (input, expected) => {
    expect(normalizeMigrationName(input)).toBe(expected);
  });

  test('When a name is very long, then it is cut at 200 characters', () => {
    expect(normalizeMigrationName('a'.repeat(250))).toHaveLength(200);
  });

  test('When a migration is named, then its folder is the UTC timestamp and the name', () => {
    const now = new Date('2024-12-31T23:59:58.999Z');

    expect(migrationTimestamp(now)).toBe('20241231235958');
    expect(migrationFolderName('Add index', now)).toBe('20241231235958_add_index');
    expect(migrationFolderName('!!!', now)).toBe('20241231235958');
  });
});
