import { engineError } from './engine-error.js';

describe('engine errors', () => {
  test('When the engine fails, then the message keeps the text and the failing migration and drops the Rust trace', () => {
    const raw = Object.assign(
      new Error(
        'external connector error\nDivision by zero\n   0: sql_schema_connector::apply_migration::apply_script\n' +
          '           with migration_name="20240103000000_broken"\n   1: schema_engine_wasm::wasm::engine::ApplyMigrations',
      ),
      { code: 'P3018' },
    );

    expect(engineError(raw).message).toBe(
      'P3018: external connector error\nDivision by zero\n(while applying migration 20240103000000_broken)',
    );
  });

  test('When our adapter code threw, then its own message replaces the opaque "External error id"', () => {
    const registry = {
      consumeError: (id: number) => (id === 3 ? { error: new Error('connect ECONNREFUSED') } : undefined),
    };

    expect(engineError(new Error('Error in the adapter: External error id#3'), registry).message).toBe(
      'Error in the adapter: connect ECONNREFUSED',
    );
  });

  test('When an engine message contains a URL with a password, then it is masked', () => {
    expect(engineError(new Error('cannot reach postgresql://u:hunter2@h/db')).message).toBe(
      'cannot reach postgresql://u:***@h/db',
    );
  });
});
