import { presentModel } from './presenters.js';

describe('presentModel', () => {
  test('When a catalog entry has planned dates, then it is snake_case with its capabilities and dates', () => {
    expect(
      presentModel({
        name: 'local-explainer@1',
        kind: 'version',
        capabilities: { vision: true, streaming: false, contextWindow: 32_768, maxOutputTokens: 4_096 },
        deprecatedAt: '2027-01-01T00:00:00.000Z',
        retiresAt: '2027-02-01T00:00:00.000Z',
      }),
    ).toEqual({
      name: 'local-explainer@1',
      kind: 'version',
      capabilities: { vision: true, streaming: false, context_window: 32_768, max_output_tokens: 4_096 },
      deprecated_at: '2027-01-01T00:00:00.000Z',
      retires_at: '2027-02-01T00:00:00.000Z',
    });
  });

  test('When nothing is planned (empty strings on the wire), then the dates are null', () => {
    const model = presentModel({ name: 'explainer', kind: 'alias', deprecatedAt: '', retiresAt: '' });

    expect(model).toMatchObject({ deprecated_at: null, retires_at: null });
    expect(model.capabilities).toEqual({
      vision: false,
      streaming: false,
      context_window: 0,
      max_output_tokens: 0,
    });
  });
});
