import { isPlausibleEmail, normaliseEmail } from './email.js';

describe('email', () => {
  it('When an address differs only by case, spaces or Unicode form, then it normalises to one value', () => {
    expect(normaliseEmail('  Ada@Example.COM ')).toBe('ada@example.com');
    // Fullwidth letters (NFKC folds them) must not create a look-alike second account.
    expect(normaliseEmail('ａｄａ@example.com')).toBe('ada@example.com');
  });

  it('When an address is checked, then only plausible shapes pass', () => {
    expect(isPlausibleEmail('ada@example.com')).toBe(true);
    expect(isPlausibleEmail('ada.lovelace+te@mail.example.co.uk')).toBe(true);
    for (const bad of [
      '',
      'ada',
      'ada@',
      '@example.com',
      'ada@example',
      'a da@example.com',
      'ada@@example.com',
      'ada@example..com',
    ]) {
      expect(isPlausibleEmail(bad)).toBe(false);
    }
    expect(isPlausibleEmail(`${'a'.repeat(65)}@example.com`)).toBe(false);
  });
});
