import { cidrContains, embeddedIpv4, formatIp, parseCidr, parseIp } from './ip-address.js';

describe('parseIp', () => {
  it.each([
    ['127.0.0.1', 4, 0x7f000001n],
    ['::1', 6, 1n],
    ['::', 6, 0n],
    ['[::1]', 6, 1n],
    ['fe80::1%eth0', 6, (0xfe80n << 112n) | 1n],
    ['::ffff:127.0.0.1', 6, 0xffff7f000001n],
    ['::ffff:7f00:1', 6, 0xffff7f000001n],
    ['0:0:0:0:0:ffff:7f00:0001', 6, 0xffff7f000001n],
    ['2001:db8::8:800:200c:417a', 6, 0x20010db80000000000080800200c417an],
  ])('When %s is parsed, then it is IPv%i with the right value', (text, family, value) => {
    expect(parseIp(text)).toEqual({ family, value });
  });

  it.each(['localhost', '127.1', '0x7f.0.0.1', '2130706433', '1.2.3.256', ':::1', ''])(
    'When %s is parsed, then it is not a literal address (WHATWG URL normalises such spellings first)',
    (text) => {
      expect(parseIp(text)).toBeUndefined();
    },
  );
});

describe('CIDR ranges', () => {
  it('When an address is inside or outside a range, then cidrContains says so, per family', () => {
    const range = parseCidr('10.0.0.0/8');
    expect(cidrContains(range, parseIp('10.255.1.2')!)).toBe(true);
    expect(cidrContains(range, parseIp('11.0.0.0')!)).toBe(false);
    expect(cidrContains(parseCidr('fc00::/7'), parseIp('fdff::1')!)).toBe(true);
    expect(cidrContains(parseCidr('fc00::/7'), parseIp('fe00::1')!)).toBe(false);
    expect(cidrContains(parseCidr('::/0'), parseIp('1.2.3.4')!)).toBe(false);
  });

  it('When a bare address is given, then it is a single-address range; bad prefixes throw', () => {
    expect(parseCidr('::1')).toEqual({ family: 6, network: 1n, prefix: 128 });
    expect(() => parseCidr('10.0.0.0/33')).toThrow('bad prefix');
    expect(() => parseCidr('10.0.0.0/x')).toThrow('bad prefix');
    expect(() => parseCidr('example.com/8')).toThrow('not an IP range');
  });

  it('When the IPv4 address inside a 6to4 address is taken, then it comes out formatted', () => {
    expect(formatIp(embeddedIpv4(parseIp('2002:c0a8:101::1')!, 80))).toBe('192.168.1.1');
    expect(formatIp(parseIp('0:0:0:0:0:0:0:1')!)).toBe('::1');
  });
});
