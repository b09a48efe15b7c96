import { compareStreamIds, maxStreamId, parseStreamId, streamIdTime } from './stream-id.js';

describe('stream ids', () => {
  it('When an id is <ms>-<seq> within 64 bits, then it parses; anything else does not', () => {
    expect(parseStreamId('1767323045678-0')).toEqual({ ms: 1767323045678n, seq: 0n });
    expect(parseStreamId('18446744073709551615-18446744073709551615')).toBeDefined();
    for (const bad of [
      '',
      '0',
      '-1-0',
      '1-',
      '1-0-0',
      'abc',
      '$',
      '+',
      '1.5-0',
      '18446744073709551616-0',
      ' 1-0',
    ]) {
      expect(parseStreamId(bad)).toBeUndefined();
    }
  });

  it('When ids are compared, then by number (not by text) on both parts', () => {
    expect(compareStreamIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareStreamIds('10-2', '10-10')).toBeLessThan(0);
    expect(compareStreamIds('10-1', '10-1')).toBe(0);
    expect(maxStreamId('10-0', '9-5')).toBe('10-0');
    expect(streamIdTime('1767323045678-3')).toBe(1767323045678);
  });
});
