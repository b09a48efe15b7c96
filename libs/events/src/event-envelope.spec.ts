import { AppError, runWithRequestContext, startTracing, withSpan, type Tracing } from '@te/platform';
import { createEvent, parseEnvelope } from './event-envelope.js';

describe('event envelope', () => {
  let tracing: Tracing;
  beforeAll(() => {
    tracing = startTracing({ service: 'events-spec' });
  });
  afterAll(() => tracing.shutdown());

  it('When an event is created inside a request and a span, then it carries a uuid v7, the time, the trace context and the request id', async () => {
    const event = await runWithRequestContext({ requestId: 'req-1' }, () =>
      withSpan('outer', {}, async (span) => {
        const created = createEvent({
          type: 'user.registered',
          source: 'user-service',
          subject: 'u1',
          data: { a: 1 },
        });
        return { created, traceId: span.spanContext().traceId };
      }),
    );
    expect(event.created.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(event.created).toMatchObject({
      specversion: '1.0',
      type: 'user.registered',
      source: 'user-service',
      subject: 'u1',
      data: { a: 1 },
      request_id: 'req-1',
    });
    expect(event.created.traceparent).toContain(event.traceId);
    expect(Date.now() - Date.parse(event.created.time)).toBeLessThan(5_000);
  });

  it('When an event is created outside any request or span, then it has no trace or request fields at all', () => {
    const event = createEvent({ type: 'a.b', source: 's', data: null });
    expect(Object.keys(event).sort()).toEqual(['data', 'id', 'source', 'specversion', 'time', 'type']);
  });

  it('When two events are created in the same millisecond, then their ids still sort in creation order', () => {
    const ids = Array.from({ length: 50 }, () => createEvent({ type: 'a.b', source: 's', data: 1 }).id);
    expect([...ids].sort()).toEqual(ids);
  });

  it('When the type contains a wildcard or is empty, then createEvent throws VALIDATION_FAILED', () => {
    for (const type of ['user.*', 'user.#', '', 'user..registered', 'a b']) {
      expect(() => createEvent({ type, source: 's', data: 1 })).toThrow(AppError);
    }
  });

  it('When a created event is serialised and parsed, then it comes back equal', () => {
    const event = createEvent({
      type: 'context.updated',
      source: 'context-service',
      data: { nested: [1, 'x'] },
    });
    expect(parseEnvelope(Buffer.from(JSON.stringify(event)))).toEqual(event);
  });

  it.each([
    ['not JSON', Buffer.from('{oops'), '(body)'],
    ['a JSON array', Buffer.from('[1]'), '(body)'],
    ['a wrong specversion', { ...valid(), specversion: '0.3' }, 'specversion'],
    ['an id that is not a UUID', { ...valid(), id: '42' }, 'id'],
    ['a wildcard type', { ...valid(), type: 'user.#' }, 'type'],
    ['no source', { ...valid(), source: '' }, 'source'],
    ['a time that is not ISO', { ...valid(), time: 'yesterday' }, 'time'],
    ['no data', { ...valid(), data: undefined }, 'data'],
    ['a numeric request_id', { ...valid(), request_id: 7 }, 'request_id'],
  ])('When the body has %s, then parseEnvelope rejects it naming the field', (_label, body, field) => {
    const input = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    try {
      parseEnvelope(input);
      throw new Error('expected a rejection');
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('VALIDATION_FAILED');
      expect((error as AppError).fields?.map((f) => f.field)).toContain(field);
    }
  });
});

function valid() {
  return {
    specversion: '1.0',
    id: '0190b6a2-1c3d-7e4f-8a9b-0c1d2e3f4a5b',
    type: 'user.registered',
    source: 'user-service',
    time: '2026-01-02T03:04:05.678Z',
    data: {},
  };
}
