import { AppError } from '@te/platform';
import { resolveDayRange } from './usage-range.js';

const NOW = new Date('2026-03-15T23:30:00Z');

function fieldsOf(input: { from?: string; to?: string }) {
  try {
    resolveDayRange(input, NOW);
  } catch (error) {
    expect((error as AppError).code).toBe('VALIDATION_FAILED');
    return (error as AppError).fields;
  }
  throw new Error('expected the range to be refused');
}

describe('usage day range', () => {
  it('When no bounds are given, then the range is the 30 UTC days ending today', () => {
    expect(resolveDayRange({}, NOW)).toEqual({ from: '2026-02-14', to: '2026-03-15' });
    expect(resolveDayRange({ from: '', to: '' }, NOW)).toEqual({ from: '2026-02-14', to: '2026-03-15' });
  });

  it('When one bound is given, then to defaults to today and from to 30 days before to', () => {
    expect(resolveDayRange({ from: '2026-03-01' }, NOW)).toEqual({ from: '2026-03-01', to: '2026-03-15' });
    expect(resolveDayRange({ to: '2026-01-30' }, NOW)).toEqual({ from: '2026-01-01', to: '2026-01-30' });
  });

  it('When the range spans exactly 366 days, then it is accepted; 367 days is refused on from', () => {
    expect(resolveDayRange({ from: '2024-01-01', to: '2024-12-31' }, NOW)).toEqual({
      from: '2024-01-01',
      to: '2024-12-31',
    });
    expect(fieldsOf({ from: '2023-12-31', to: '2024-12-31' })).toEqual([
      { field: 'from', message: 'must be at most 366 days before to' },
    ]);
  });

  it('When bounds are malformed or reversed, then the offending parameter is named', () => {
    expect(fieldsOf({ from: '2026-02-30', to: '15/03/2026' })?.map((f) => f.field)).toEqual(['from', 'to']);
    expect(fieldsOf({ from: '2026-3-1' })?.map((f) => f.field)).toEqual(['from']);
    expect(fieldsOf({ from: '2026-03-02', to: '2026-03-01' })).toEqual([
      { field: 'from', message: 'must not be after to' },
    ]);
  });
});
