import { Metadata } from '@grpc/grpc-js';
import {
  decodePrincipal,
  encodePrincipal,
  readPrincipal,
  readRequestId,
  writeCallMetadata,
} from './metadata.js';
import { parseMethodPath } from './method-path.js';

describe('metadata', () => {
  const principal = { userId: 'u1', roles: ['user'], scopes: ['profile'], authMethod: 'jwt' };

  it('When a principal is encoded, then it decodes to the same principal and is valid metadata text', () => {
    const encoded = encodePrincipal({ ...principal, userId: 'üser' });

    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePrincipal(encoded)).toEqual({ ...principal, userId: 'üser' });
  });

  it('When x-te-principal is absent, then there is no principal; when it is malformed, then reading throws', () => {
    expect(readPrincipal(new Metadata())).toBeUndefined();
    for (const bad of [
      '%%%',
      encode({ userId: 'u1', roles: 'admin', scopes: [] }),
      encode({ roles: [], scopes: [] }),
      encode(7),
    ]) {
      const metadata = new Metadata();
      metadata.set('x-te-principal', bad);
      expect(() => readPrincipal(metadata)).toThrow('Malformed x-te-principal');
    }
  });

  it('When the caller sends a sane request id, then it is kept; when it sends garbage, then a fresh one is minted', () => {
    const sane = new Metadata();
    sane.set('x-request-id', 'req-1:abc.DEF_9');
    const garbage = new Metadata();
    garbage.set('x-request-id', 'x'.repeat(200));

    expect(readRequestId(sane)).toBe('req-1:abc.DEF_9');
    expect(readRequestId(garbage)).toMatch(/^[0-9a-f-]{36}$/);
    expect(readRequestId(new Metadata())).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('When outgoing metadata is written, then the caller-set request id wins and trace headers are added', () => {
    const metadata = new Metadata();
    metadata.set('x-request-id', 'explicit');

    writeCallMetadata(metadata, {
      requestId: 'from-context',
      principal,
      trace: { traceparent: '00-a-b-01' },
    });

    expect(metadata.get('x-request-id')).toEqual(['explicit']);
    expect(decodePrincipal(String(metadata.get('x-te-principal')[0]))).toEqual(principal);
    expect(metadata.get('traceparent')).toEqual(['00-a-b-01']);
  });

  it('When a method path is parsed, then service and method come apart; a bad path keeps its text', () => {
    expect(parseMethodPath('/te.user.v1.UserService/Register')).toEqual({
      service: 'te.user.v1.UserService',
      method: 'Register',
    });
    expect(parseMethodPath('nonsense')).toEqual({ service: 'unknown', method: 'nonsense' });
  });
});

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
