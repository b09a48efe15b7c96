import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { captureLogger } from './log-capture.js';
import { runWithRequestContext } from './request-context.js';
import { startTracing, withSpan, type Tracing } from './tracing.js';

describe('logger', () => {
  let tracing: Tracing;
  beforeAll(() => {
    tracing = startTracing({
      service: 'test',
      spanProcessors: [new SimpleSpanProcessor({ exporter: new InMemorySpanExporter() })],
    });
  });
  afterAll(() => tracing.shutdown());

  it('When a line is logged inside a request and a span, then it carries service, request id and trace id', async () => {
    const { logger, lines } = captureLogger('user-service');
    let traceId = '';
    await runWithRequestContext({ requestId: 'req-1' }, () =>
      withSpan('op', {}, async (span) => {
        traceId = span.spanContext().traceId;
        logger.info('hello', { user_id: 'u1' });
      }),
    );
    const [line] = lines();
    expect(line).toMatchObject({
      level: 'info',
      message: 'hello',
      service: 'user-service',
      request_id: 'req-1',
      user_id: 'u1',
    });
    expect(line.trace_id).toBe(traceId);
    expect(line.span_id).toMatch(/^[0-9a-f]{16}$/);
    expect(typeof line.timestamp).toBe('string');
  });

  it('When secrets are logged as meta or inside the message, then they never reach the output', () => {
    const { logger, text } = captureLogger('api-gateway');
    logger.warn('login with Bearer abc.def.ghi failed', {
      password: 'hunter2',
      headers: { authorization: 'Bearer xyz' },
    });
    logger.error('db down', { err: new Error('connect postgresql://app:pa55word@db/te_user refused') });
    const output = text();
    expect(output).not.toContain('hunter2');
    expect(output).not.toContain('xyz');
    expect(output).not.toContain('abc.def.ghi');
    expect(output).not.toContain('pa55word');
    expect(output).toContain('[REDACTED]');
  });

  it('When an error is logged, then its name, message and stack are kept', () => {
    const { logger, lines } = captureLogger('svc');
    logger.error('boom', { err: new TypeError('bad thing') });
    const err = lines()[0].err as Record<string, string>;
    expect(err.name).toBe('TypeError');
    expect(err.message).toBe('bad thing');
    expect(err.stack).toContain('logger.spec');
  });
});
