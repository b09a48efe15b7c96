import { getRequestContext } from '@te/platform';
import { fakeRequest, fakeResponse } from '../../test/support/fake-http.js';
import { requestContext } from './request-context.middleware.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Runs the middleware; returns the id it chose, the header it set and the context `next` saw. */
function run(headers: Record<string, string>) {
  const response = fakeResponse();
  let seenInNext: string | undefined;
  requestContext()(fakeRequest(headers), response.res, () => {
    seenInNext = getRequestContext()?.requestId;
  });
  return {
    chosen: response.res.locals.requestId as string,
    header: response.headers['x-request-id'],
    seenInNext,
  };
}

describe('request context middleware', () => {
  test.each([
    'abc-123',
    'trace:4bf92f35.00f067aa_1',
    'A'.repeat(128),
    '01a210af-fe0f-72ca-91c9-cb337099ec10',
  ])(
    'When the caller sends the safe id %s, then it is echoed and carried by the request context',
    (incoming) => {
      const { chosen, header, seenInNext } = run({ 'X-Request-Id': incoming });

      expect(chosen).toBe(incoming);
      expect(header).toBe(incoming);
      expect(seenInNext).toBe(incoming);
    },
  );

  test.each([
    ['contains spaces', 'id with spaces'],
    ['contains markup', '<script>alert(1)</script>'],
    ['could forge a log line', 'abc\n{"level":"error"}'],
    ['is too long', 'A'.repeat(129)],
    ['is empty', ''],
    ['has non-ASCII letters', 'idé-123'],
    ['has shell metacharacters', 'id;rm -rf /'],
  ])('When the incoming id %s, then a fresh UUID replaces it everywhere', (_why, incoming) => {
    const { chosen, header, seenInNext } = run({ 'X-Request-Id': incoming });

    expect(chosen).toMatch(UUID);
    expect(header).toBe(chosen);
    expect(seenInNext).toBe(chosen);
  });

  test('When no id is sent, then each request gets its own UUID', () => {
    const first = run({});
    const second = run({});

    expect(first.chosen).toMatch(UUID);
    expect(second.chosen).toMatch(UUID);
    expect(first.chosen).not.toBe(second.chosen);
  });
});
