import type { Message } from 'amqplib';
import { createEvent } from '../event-envelope.js';
import { deadLetterHeaders, errorText, eventPublishOptions, republishOptions } from './message-properties.js';

describe('message properties', () => {
  it('When an event is published, then it is persistent, mandatory JSON with the event id and trace headers', () => {
    const event = {
      ...createEvent({ type: 'a.b', source: 'svc', data: {} }),
      traceparent: '00-' + 'a'.repeat(32) + '-' + 'b'.repeat(16) + '-01',
      request_id: 'r1',
    };
    expect(eventPublishOptions(event)).toMatchObject({
      persistent: true,
      mandatory: true,
      contentType: 'application/json',
      messageId: event.id,
      type: 'a.b',
      appId: 'svc',
      headers: { traceparent: event.traceparent, 'x-request-id': 'r1' },
    });
    expect(eventPublishOptions(event).headers).not.toHaveProperty('tracestate');
  });

  it('When a dead-lettered message is republished, then broker x-death headers are dropped and ours added', () => {
    const message = {
      content: Buffer.from('{}'),
      fields: {},
      properties: {
        messageId: 'm1',
        contentType: 'application/json',
        headers: {
          traceparent: 'tp',
          'x-death': [{ count: 1 }],
          'x-first-death-queue': 'q.retry.1',
          'x-attempts': 1,
        },
      },
    } as unknown as Message;
    const options = republishOptions(message, { 'x-attempts': 2 });
    expect(options.headers).toEqual({ traceparent: 'tp', 'x-attempts': 2 });
    expect(options).toMatchObject({ persistent: true, mandatory: true, messageId: 'm1' });
  });

  it('When a handler error is recorded, then the DLQ headers carry the reason, code, message and queue', () => {
    const error = Object.assign(new Error('boom'), { code: 'CONFLICT' });
    expect(deadLetterHeaders(4, 'handler_failed', error, 'svc.q')).toMatchObject({
      'x-attempts': 4,
      'x-dead-letter-reason': 'handler_failed',
      'x-error': 'boom',
      'x-error-code': 'CONFLICT',
      'x-original-queue': 'svc.q',
    });
  });

  it('When an error message is huge, then the recorded text is bounded', () => {
    expect(errorText(new Error('x'.repeat(5000)))).toHaveLength(1000);
    expect(errorText('plain')).toBe('plain');
  });
});
