import { parseRetryAfter } from './retry-after.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-25T12:00:00Z');

  it.each([
    ['120', 120_000],
    [' 0 ', 0],
    ['Wed, 25 Nov 2026 12:00:30 GMT', 30_000],
    ['Wednesday, 25-Nov-26 12:01:00 GMT', 60_000],
    ['Wed Nov 25 12:00:05 2026', 5_000],
    ['Wed, 25 Nov 2026 11:00:00 GMT', 0],
  ])('When Retry-After is "%s", then the delay is %i ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it.each([undefined, '', '-5', '1.5', 'soon', '2026-11-25T12:00:30Z', '99999999999999999999'])(
    'When Retry-After is %p, then there is no delay',
    (value) => {
      expect(parseRetryAfter(value, now)).toBeUndefined();
    },
  );
});
