import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, passwordProblems } from './password.policy.js';

const account = { email: 'ada@example.com', name: 'Ada Lovelace' };

describe('password policy (NIST SP 800-63B)', () => {
  it('When a password has at least the minimum length, then it is accepted without composition rules', () => {
    expect(passwordProblems('a'.repeat(PASSWORD_MIN_LENGTH), account)).toEqual([]);
    expect(passwordProblems('correct horse battery staple', account)).toEqual([]);
  });

  it('When a password is too short or too long, then the problem names the field and the bound', () => {
    expect(passwordProblems('short', account)).toEqual([
      { field: 'password', message: 'must be at least 8 characters' },
    ]);
    expect(passwordProblems('x'.repeat(PASSWORD_MAX_LENGTH + 1), account)[0].message).toBe(
      'must be at most 128 characters',
    );
  });

  it('When length is counted, then it counts characters, not UTF-16 units', () => {
    expect(passwordProblems('🔑🔑🔑🔑🔑🔑🔑', account)).toHaveLength(1); // 7 characters, 14 code units
    expect(passwordProblems('🔑🔑🔑🔑🔑🔑🔑🔑', account)).toEqual([]);
  });

  it('When a password is the email, its local part or the name, then it is refused', () => {
    for (const derived of ['ada@example.com', 'ADA@EXAMPLE.COM', 'ada lovelace']) {
      expect(passwordProblems(derived, account)).toEqual([
        { field: 'password', message: 'must not be your email address or name' },
      ]);
    }
    expect(passwordProblems('adaadaada', { email: 'adaadaada@example.com', name: 'X' })).toHaveLength(1);
  });

  it('When a password is on the common/breached list in any case, then it is refused', () => {
    for (const common of ['password1', 'PASSWORD1', 'iloveyou', 'Qwertyuiop', '1q2w3e4r5t']) {
      expect(passwordProblems(common, account)).toEqual([
        { field: 'password', message: 'is too common (found in lists of breached passwords)' },
      ]);
    }
    expect(passwordProblems('correct horse battery staple', account)).toEqual([]);
  });

  it('When a field name is given, then the problems are reported on it', () => {
    expect(passwordProblems('password1', account, 'new_password')[0].field).toBe('new_password');
  });
});
