import { historyProblems, statusFromDiagnosis, statusOfMissingDatabase } from './migration-history.js';

const local = ['1_a', '2_b', '3_c'];

describe('migration status from the engine diagnosis', () => {
  test('When the database is behind, then the unapplied migrations are pending and the rest applied', () => {
    const status = statusFromDiagnosis(local, {
      editedMigrationNames: [],
      failedMigrationNames: [],
      hasMigrationsTable: true,
      history: { diagnostic: 'databaseIsBehind', unappliedMigrationNames: ['3_c'] },
    });

    expect(status).toMatchObject({ applied: ['1_a', '2_b'], pending: ['3_c'], upToDate: false });
    expect(historyProblems(status)).toEqual([]);
  });

  test('When histories diverge and a migration was edited, then both are problems and nothing is up to date', () => {
    const status = statusFromDiagnosis(local, {
      editedMigrationNames: ['1_a'],
      failedMigrationNames: [],
      hasMigrationsTable: true,
      history: {
        diagnostic: 'historiesDiverge',
        lastCommonMigrationName: '1_a',
        unpersistedMigrationNames: ['2_x'],
        unappliedMigrationNames: ['2_b', '3_c'],
      },
    });

    expect(status).toMatchObject({
      applied: ['1_a'],
      pending: ['2_b', '3_c'],
      notInFolder: ['2_x'],
      edited: ['1_a'],
      upToDate: false,
    });
    expect(historyProblems(status)).toHaveLength(2);
  });

  test('When everything is applied, then the database is up to date', () => {
    const status = statusFromDiagnosis(local, {
      editedMigrationNames: [],
      failedMigrationNames: [],
      hasMigrationsTable: true,
      history: null,
    });

    expect(status).toMatchObject({ applied: local, pending: [], upToDate: true });
  });

  test('When the database does not exist, then every migration is pending', () => {
    expect(statusOfMissingDatabase(local)).toMatchObject({
      databaseExists: false,
      pending: local,
      upToDate: false,
    });
    expect(statusOfMissingDatabase([]).upToDate).toBe(true);
  });
});
