import { Argon2PasswordHasher } from './argon2.password-hasher.js';

describe('Argon2PasswordHasher', () => {
  const hasher = new Argon2PasswordHasher();

  it('When a password is hashed, then it is argon2id with at least the OWASP parameters and a random salt', async () => {
    const a = await hasher.hash('correct horse battery staple');
    const b = await hasher.hash('correct horse battery staple');
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(a).not.toBe(b);
    expect(await hasher.verify(a, 'correct horse battery staple')).toBe(true);
    expect(await hasher.verify(a, 'correct horse battery stapl')).toBe(false);
  });

  it('When a stored hash is malformed, then it never verifies and needs a rehash', async () => {
    expect(await hasher.verify('not-a-hash', 'x')).toBe(false);
    expect(hasher.needsRehash('not-a-hash')).toBe(true);
  });

  it('When the policy is raised, then hashes made with the old parameters need a rehash', async () => {
    const old = await hasher.hash('pw-1234567');
    const stronger = new Argon2PasswordHasher({ memoryKib: 19_456, timeCost: 3, parallelism: 1 });
    expect(hasher.needsRehash(old)).toBe(false);
    expect(stronger.needsRehash(old)).toBe(true);
    expect(await stronger.verify(old, 'pw-1234567')).toBe(true);
  });

  it('When parameters below the OWASP minimum are asked for, then construction fails', () => {
    expect(() => new Argon2PasswordHasher({ memoryKib: 4096, timeCost: 2, parallelism: 1 })).toThrow('OWASP');
    expect(() => new Argon2PasswordHasher({ memoryKib: 19_456, timeCost: 1, parallelism: 1 })).toThrow(
      'OWASP',
    );
  });
});
