import { runId } from './run-id.js';

describe('runId', () => {
  const saved = process.env['TE_TEST_RUN_ID'];
  afterEach(() => {
    if (saved === undefined) delete process.env['TE_TEST_RUN_ID'];
    else process.env['TE_TEST_RUN_ID'] = saved;
  });

  test('When no override is set, then the id is short, name-safe and the same on every call', () => {
    delete process.env['TE_TEST_RUN_ID'];

    const id = runId();

    expect(id).toMatch(/^[0-9a-f]{8}$/);
    expect(runId()).toBe(id);
  });

  test('When TE_TEST_RUN_ID is set, then it is the id', () => {
    process.env['TE_TEST_RUN_ID'] = 'ci4711';

    expect(runId()).toBe('ci4711');
  });

  test('When TE_TEST_RUN_ID could break a database or queue name, then it is refused', () => {
    process.env['TE_TEST_RUN_ID'] = 'x; DROP';

    expect(() => runId()).toThrow('TE_TEST_RUN_ID must be');
  });
});
