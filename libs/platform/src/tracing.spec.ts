import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import {
  currentTraceIds,
  extractTraceContext,
  injectTraceContext,
  SpanKind,
  startTracing,
  withSpan,
  type Tracing,
} from './tracing.js';

describe('tracing', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  beforeAll(() => {
    tracing = startTracing({ service: 'test', spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  });
  afterAll(() => tracing.shutdown());
  beforeEach(() => exporter.reset());

  it('When the context is injected and extracted, then a child span continues the same trace', async () => {
    const carrier: Record<string, string> = {};
    let parentTrace = '';
    await withSpan('client', {}, async (span) => {
      parentTrace = span.spanContext().traceId;
      injectTraceContext(carrier);
    });
    expect(carrier.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    await withSpan(
      'server',
      {},
      async () => {
        expect(currentTraceIds().traceId).toBe(parentTrace);
      },
      { kind: SpanKind.SERVER, parent: extractTraceContext(carrier) },
    );
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['client', 'server']);
  });

  it('When the work throws, then the span records the exception and an error status', async () => {
    await expect(
      withSpan('failing', { 'te.kind': 'test' }, async () => {
        throw new Error('nope');
      }),
    ).rejects.toThrow('nope');
    const [span] = exporter.getFinishedSpans();
    expect(span.status.code).toBe(2);
    expect(span.events.some((e) => e.name === 'exception')).toBe(true);
    expect(span.attributes['te.kind']).toBe('test');
  });

  it('When no span is active, then there are no trace ids', () => {
    expect(currentTraceIds()).toEqual({});
  });
});
