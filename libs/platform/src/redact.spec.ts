import { REDACTED, redact, redactString } from './redact.js';

describe('redact', () => {
  it('When a value sits under a secret-looking key at any depth, then it is replaced', () => {
    const out = redact({
      email: 'a@b.io',
      password: 'hunter2',
      nested: {
        access_token: 'abc',
        apiKey: 'k',
        'x-api-key': 'k2',
        Authorization: 'Bearer x',
        list: [{ client_secret: 's' }],
      },
    });
    expect(out).toEqual({
      email: 'a@b.io',
      password: REDACTED,
      nested: {
        access_token: REDACTED,
        apiKey: REDACTED,
        'x-api-key': REDACTED,
        Authorization: REDACTED,
        list: [{ client_secret: REDACTED }],
      },
    });
  });

  it('When a string carries URL credentials, a bearer token or a JWT, then they are scrubbed', () => {
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLXZhbHVl';
    expect(redactString('amqp://guest:guest@127.0.0.1:5672')).toBe(`amqp://guest:${REDACTED}@127.0.0.1:5672`);
    expect(redactString('header Bearer abc.def-ghi')).toBe(`header Bearer ${REDACTED}`);
    expect(redactString(`token=${jwt} end`)).toBe(`token=${REDACTED} end`);
    expect(redactString('postgresql://postgres@localhost/db')).toBe('postgresql://postgres@localhost/db');
  });

  it('When an error is logged, then it becomes a plain object with scrubbed message and stack', () => {
    const error = new Error('failed to connect to postgresql://app:s3cret@db/te_user');
    const out = redact(error) as Record<string, string>;
    expect(out.name).toBe('Error');
    expect(out.message).not.toContain('s3cret');
    expect(out.stack).not.toContain('s3cret');
  });

  it('When an object is cyclic, then redaction terminates', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    expect(redact(a)).toEqual({ name: 'a', self: '[Truncated]' });
  });
});
