import {
  createDestinationPolicy,
  DestinationRefusedError,
  validateDestinationUrl,
} from './destination-policy.js';

const refusal = (url: string, allow: string[] = []) => {
  try {
    validateDestinationUrl(url, createDestinationPolicy(allow));
  } catch (error) {
    if (error instanceof DestinationRefusedError) return error.reason;
    throw error;
  }
  return 'accepted';
};

describe('validateDestinationUrl', () => {
  it.each([
    ['not a url', 'invalid_url'],
    ['/relative/path', 'invalid_url'],
    ['ftp://example.com/hook', 'scheme_not_allowed'],
    ['file:///etc/passwd', 'scheme_not_allowed'],
    ['gopher://example.com:70/', 'scheme_not_allowed'],
    ['ws://example.com/', 'scheme_not_allowed'],
    ['https://user:secret@example.com/hook', 'credentials_in_url'],
    ['https://user@example.com/hook', 'credentials_in_url'],
    ['http://2130706433/', 'special_address'],
    ['http://0x7f.1/', 'special_address'],
    ['http://0177.0.0.1/', 'special_address'],
    ['http://127.1/', 'special_address'],
    ['http://[::ffff:127.0.0.1]/', 'special_address'],
    ['http://0/', 'special_address'],
    ['http://169.254.169.254/latest/meta-data/', 'special_address'],
    ['http://[fd00:ec2::254]/', 'special_address'],
    ['http://localhost:8080/', 'local_hostname'],
    ['http://LOCALHOST./', 'local_hostname'],
    ['http://api.localhost/', 'local_hostname'],
  ])('When the URL is %s, then it is refused as %s', (url, reason) => {
    expect(refusal(url)).toBe(reason);
  });

  it.each([
    'https://example.com/hook',
    'http://8.8.8.8:8080/x',
    'https://[2606:4700:4700::1111]/',
    'https://localhost.example.com/',
  ])('When the URL is %s, then it is accepted before DNS', (url) => {
    expect(refusal(url)).toBe('accepted');
  });

  it('When loopback is allowlisted by range or by host:port, then exactly that is accepted', () => {
    expect(refusal('http://127.0.0.1:9000/', ['127.0.0.0/8'])).toBe('accepted');
    expect(refusal('http://[::1]:9000/', ['127.0.0.0/8'])).toBe('special_address');
    expect(refusal('http://localhost:9000/', ['localhost:9000'])).toBe('accepted');
    expect(refusal('http://localhost:9001/', ['localhost:9000'])).toBe('local_hostname');
    expect(refusal('http://[::1]:9000/', ['[::1]:9000'])).toBe('accepted');
    expect(refusal('https://user:pw@localhost:9000/', ['localhost:9000'])).toBe('credentials_in_url');
  });

  it('When an allowlist entry is neither a range nor host:port, then the policy is not built', () => {
    expect(() => createDestinationPolicy(['http://localhost'])).toThrow('neither a CIDR nor host:port');
    expect(createDestinationPolicy([' ', '10.0.0.0/8']).ranges).toHaveLength(1);
  });
});
