import { hashRefreshToken, isWellFormedRefreshToken, newRefreshToken } from './refresh-token.js';

describe('refresh tokens', () => {
  it('When a token is made, then it is rt_ + 256 random bits and only its SHA-256 is kept', () => {
    const a = newRefreshToken();
    const b = newRefreshToken();
    expect(a.token).toMatch(/^rt_[A-Za-z0-9_-]{43}$/);
    expect(a.token).not.toBe(b.token);
    expect(a.hash).toBe(hashRefreshToken(a.token));
    expect(a.hash).not.toContain(a.token.slice(3));
    expect(isWellFormedRefreshToken(a.token)).toBe(true);
  });

  it('When a value has another shape, then it is not a refresh token', () => {
    for (const value of [
      '',
      'rt_',
      `rt_${'a'.repeat(42)}`,
      `xx_${'a'.repeat(43)}`,
      `rt_${'a'.repeat(42)}=`,
    ]) {
      expect(isWellFormedRefreshToken(value)).toBe(false);
    }
  });
});
