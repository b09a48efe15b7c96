import { AppError } from '@te/platform';
import { parseInferenceCompleted, totalsByModel } from './usage.js';

const USER = '0190a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b';
const valid = {
  user_id: USER,
  model: 'openai/gpt-4o-mini',
  input_tokens: 120,
  output_tokens: 30,
  cost_usd: '0.00125',
  completed_at: '2026-03-01T23:59:59.999+00:00',
};

function problems(data: unknown, subject?: string) {
  try {
    parseInferenceCompleted(data, subject);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('VALIDATION_FAILED');
    return (error as AppError).fields?.map((f) => f.field);
  }
  throw new Error('expected the data to be refused');
}

describe('ai.inference.completed data', () => {
  it('When the data is valid, then it becomes exact integers on the UTC day of completion', () => {
    expect(parseInferenceCompleted({ ...valid, extra: 'ignored' }, USER)).toEqual({
      userId: USER,
      day: '2026-03-01',
      model: 'openai/gpt-4o-mini',
      inputTokens: 120n,
      outputTokens: 30n,
      costMicroUsd: 1250n,
    });
  });

  it('When completed_at carries an offset, then the day is the UTC day (not the local one)', () => {
    expect(parseInferenceCompleted({ ...valid, completed_at: '2026-03-02T01:30:00+02:00' }).day).toBe(
      '2026-03-01',
    );
    expect(parseInferenceCompleted({ ...valid, completed_at: '2026-03-01T22:30:00-02:00' }).day).toBe(
      '2026-03-02',
    );
  });

  it('When fields are missing or wrong, then every bad field is named', () => {
    expect(problems({})).toEqual([
      'user_id',
      'model',
      'input_tokens',
      'output_tokens',
      'cost_usd',
      'completed_at',
    ]);
    expect(
      problems({
        ...valid,
        user_id: 'nope',
        model: ' ',
        input_tokens: -1,
        output_tokens: 1.5,
        cost_usd: 0.5,
        completed_at: '2026-03-01 10:00:00',
      }),
    ).toEqual(['user_id', 'model', 'input_tokens', 'output_tokens', 'cost_usd', 'completed_at']);
    expect(problems({ ...valid, input_tokens: '12' })).toEqual(['input_tokens']);
    expect(problems({ ...valid, completed_at: '2026-02-30T10:00:00Z' })).toEqual(['completed_at']);
    expect(problems({ ...valid, completed_at: '2026-03-01T10:00:00' })).toEqual(['completed_at']);
    expect(problems({ ...valid, model: 'a\u0000b' })).toEqual(['model']);
    expect(problems([valid])).toEqual(['data']);
    expect(problems(null)).toEqual(['data']);
  });

  it('When the envelope subject is another user, then the event is refused', () => {
    expect(problems(valid, '0190a3c4-0000-7000-8000-000000000000')).toEqual(['subject']);
  });

  it('When daily rows are totalled, then each model sums exactly', () => {
    const row = (day: string, model: string, cost: bigint) => ({
      day,
      model,
      requests: 1n,
      inputTokens: 10n,
      outputTokens: 2n,
      costMicroUsd: cost,
    });
    expect(
      totalsByModel([row('2026-01-01', 'b', 1n), row('2026-01-01', 'a', 2n), row('2026-01-02', 'b', 3n)]),
    ).toEqual([
      { model: 'a', requests: 1n, inputTokens: 10n, outputTokens: 2n, costMicroUsd: 2n },
      { model: 'b', requests: 2n, inputTokens: 20n, outputTokens: 4n, costMicroUsd: 4n },
    ]);
  });
});
