import dgram from 'node:dgram';
import { promises as dns } from 'node:dns';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseIp } from '../src/outbound/ip-address.js';
import { OutboundHttpSender, type OutboundResult } from '../src/outbound/index.js';

/**
 * SSRF protection against real sockets: loopback receivers that must never be reached, and a real
 * DNS server on loopback UDP whose answers change between queries (DNS rebinding).
 */

interface DnsServer {
  port: number;
  queries: string[];
  close: () => Promise<void>;
}

/** A minimal authoritative DNS server (RFC 1035): answers A/AAAA from `answer`, NXDOMAIN when it has none. */
async function startDnsServer(
  answer: (name: string, type: 'A' | 'AAAA') => string[] | undefined,
): Promise<DnsServer> {
  const socket = dgram.createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (query, peer) => {
    let offset = 12;
    const labels: string[] = [];
    while (query[offset] !== 0) {
      labels.push(query.subarray(offset + 1, offset + 1 + query[offset]).toString('ascii'));
      offset += query[offset] + 1;
    }
    const questionEnd = offset + 5;
    const qtype = query.readUInt16BE(offset + 1);
    const name = labels.join('.').toLowerCase();
    const type = qtype === 28 ? 'AAAA' : 'A';
    queries.push(`${type} ${name}`);
    const addresses = qtype === 1 || qtype === 28 ? answer(name, type) : [];
    const header = Buffer.alloc(12);
    header.writeUInt16BE(query.readUInt16BE(0), 0); // id
    header.writeUInt16BE(addresses === undefined ? 0x8183 : 0x8180, 2); // response, RD+RA, NOERROR/NXDOMAIN
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(addresses?.length ?? 0, 6);
    const records = (addresses ?? []).map((text) => {
      const { value } = parseIp(text)!;
      const size = type === 'A' ? 4 : 16;
      const record = Buffer.alloc(12 + size);
      record.writeUInt16BE(0xc00c, 0); // pointer to the question's name
      record.writeUInt16BE(qtype, 2);
      record.writeUInt16BE(1, 4); // IN
      record.writeUInt32BE(0, 6); // TTL 0: nothing may cache it
      record.writeUInt16BE(size, 10);
      for (let i = 0; i < size; i++) record[12 + i] = Number((value >> BigInt(8 * (size - 1 - i))) & 0xffn);
      return record;
    });
    socket.send(
      Buffer.concat([header, query.subarray(12, questionEnd), ...records]),
      peer.port,
      peer.address,
    );
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    queries,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

interface Receiver {
  server: http.Server;
  port: number;
  hits: string[];
}

async function startReceiver(host: string, port = 0): Promise<Receiver> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.end('reached');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return { server, port: (server.address() as AddressInfo).port, hits };
}

const closeServer = (server?: http.Server) =>
  new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));

const errorOf = (result: OutboundResult) =>
  result.outcome === 'failure' ? result.error : `HTTP ${result.status}`;

describe('SSRF: refused destinations are never connected to', () => {
  let loopback: Receiver;
  let ipv6Loopback: Receiver | undefined;

  beforeAll(async () => {
    loopback = await startReceiver('127.0.0.1');
    ipv6Loopback = await startReceiver('::1', loopback.port).catch(() => undefined); // where ::1 exists
  });
  afterAll(async () => {
    await closeServer(loopback?.server);
    await closeServer(ipv6Loopback?.server);
  });

  const loopbackSpellings = [
    'http://127.0.0.1:PORT/hook',
    'http://2130706433:PORT/hook',
    'http://0x7f000001:PORT/hook',
    'http://017700000001:PORT/hook',
    'http://0x7f.1:PORT/hook',
    'http://0x7f.0x0.0x0.0x1:PORT/hook',
    'http://0177.0.0.1:PORT/hook',
    'http://127.000.000.001:PORT/hook',
    'http://127.1:PORT/hook',
    'http://127.0.1:PORT/hook',
    'http://127.0.0.1.:PORT/hook',
    'http://%31%32%37.0.0.1:PORT/hook',
    'http://１２７.０.０.１:PORT/hook',
    'http://①②⑦.0.0.1:PORT/hook',
    'http://127.255.255.254:PORT/hook',
    'http://0.0.0.0:PORT/hook',
    'http://0:PORT/hook',
    'http://[::ffff:127.0.0.1]:PORT/hook',
    'http://[::ffff:7f00:1]:PORT/hook',
    'http://[0:0:0:0:0:ffff:127.0.0.1]:PORT/hook',
    'http://[::127.0.0.1]:PORT/hook',
    'http://[64:ff9b::127.0.0.1]:PORT/hook',
    'http://[2002:7f00:1::1]:PORT/hook',
    'http://[::1]:PORT/hook',
    'http://[::]:PORT/hook',
    'http://localhost:PORT/hook',
    'http://LOCALHOST.:PORT/hook',
    'http://hooks.localhost:PORT/hook',
  ];

  it.each(loopbackSpellings)(
    'When the URL is %s, then the request is refused and no receiver sees it',
    async (url) => {
      const sender = new OutboundHttpSender({ totalTimeoutMs: 10_000 });
      const result = await sender.send({ url: url.replace('PORT', String(loopback.port)), body: '{}' });
      expect(result).toMatchObject({ outcome: 'failure', error: 'refused_destination', retryable: false });
      expect(loopback.hits).toEqual([]);
      expect(ipv6Loopback?.hits ?? []).toEqual([]);
    },
  );

  it('When loopback is allowlisted, then the same spellings reach the receiver (the refusals above are the policy)', async () => {
    const sender = new OutboundHttpSender({ allow: ['127.0.0.0/8'] });
    for (const url of [
      'http://2130706433:PORT/a',
      'http://0x7f.1:PORT/b',
      'http://0177.0.0.1:PORT/c',
      'http://127.1:PORT/d',
    ]) {
      const result = await sender.send({ url: url.replace('PORT', String(loopback.port)), body: '{}' });
      expect(errorOf(result)).toBe('HTTP 200');
    }
    expect(loopback.hits).toEqual(['POST /a', 'POST /b', 'POST /c', 'POST /d']);
    loopback.hits.length = 0;
  });

  it.each([
    'http://10.0.0.1/',
    'http://172.16.5.4/',
    'http://192.168.1.1/',
    'http://100.64.0.1/',
    'http://100.100.100.200/latest/meta-data/',
    'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
    'http://[::ffff:a9fe:a9fe]/latest/meta-data/',
    'http://2852039166/latest/meta-data/',
    'http://168.63.129.16/metadata/instance',
    'http://[fd00:ec2::254]/latest/meta-data/',
    'http://169.254.1.1/',
    'http://198.18.0.1/',
    'http://192.0.2.1/',
    'http://198.51.100.1/',
    'http://203.0.113.1/',
    'http://192.0.0.192/',
    'http://224.0.0.1/',
    'http://255.255.255.255/',
    'http://240.0.0.1/',
    'http://[fc00::1]/',
    'http://[fe80::1]/',
    'http://[ff02::1]/',
    'http://[2001:db8::1]/',
    'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/',
    'http://[2002:c0a8:101::1]/',
    'http://[64:ff9b::a00:1]/',
  ])('When the URL is %s, then it is refused before any connection', async (url) => {
    const result = await new OutboundHttpSender({ connectTimeoutMs: 10_000 }).send({ url });
    expect(result).toMatchObject({
      outcome: 'failure',
      error: 'refused_destination',
      code: 'special_address',
    });
  });

  it.each([
    ['ftp://example.com/hook', 'scheme_not_allowed'],
    ['file:///etc/passwd', 'scheme_not_allowed'],
    ['https://user:password@example.com/hook', 'credentials_in_url'],
    ['not a url', 'invalid_url'],
  ])('When the URL is %s, then it is refused as %s', async (url, code) => {
    const result = await new OutboundHttpSender().send({ url });
    expect(result).toMatchObject({ outcome: 'failure', error: 'refused_destination', code });
  });
});

describe('SSRF: names are checked at connect time against a real DNS server (rebinding)', () => {
  let dnsServer: DnsServer;
  let publicStandIn: Receiver; // 127.0.0.1, allowlisted: plays a public receiver
  let internal: Receiver; // 127.0.0.2, not allowlisted: plays an internal service
  const answers = new Map<string, (type: 'A' | 'AAAA') => string[]>();
  const resolver = () => {
    const instance = new dns.Resolver({ timeout: 2_000, tries: 1 });
    instance.setServers([`127.0.0.1:${dnsServer.port}`]);
    return instance;
  };
  const sender = () => new OutboundHttpSender({ allow: ['127.0.0.1/32'], resolver: resolver() });

  beforeAll(async () => {
    dnsServer = await startDnsServer((name, type) => {
      const entry = answers.get(name);
      return entry?.(type);
    });
    publicStandIn = await startReceiver('127.0.0.1');
    internal = await startReceiver('127.0.0.2', publicStandIn.port);
  });
  afterAll(async () => {
    await dnsServer?.close();
    await closeServer(publicStandIn?.server);
    await closeServer(internal?.server);
  });
  beforeEach(() => {
    publicStandIn.hits.length = 0;
    internal.hits.length = 0;
    dnsServer.queries.length = 0;
  });

  it('When a name answers public then private, then the check made at connect time refuses the private turn', async () => {
    let turn = 0;
    answers.set('rebind.example.test', (type) =>
      type === 'A' ? [turn++ % 2 === 0 ? '127.0.0.1' : '127.0.0.2'] : [],
    );
    const url = `http://rebind.example.test:${publicStandIn.port}/hook`;

    // A validate-then-fetch design would resolve here, see an allowed address, and then fetch…
    expect(await resolver().resolve4('rebind.example.test')).toEqual(['127.0.0.1']);
    // …but the connection resolves again and gets the internal address: refused, never connected.
    const first = await sender().send({ url, body: '{}' });
    const second = await sender().send({ url, body: '{}' });
    const third = await sender().send({ url, body: '{}' });

    expect([first, second, third].map(errorOf)).toEqual([
      'refused_destination',
      'HTTP 200',
      'refused_destination',
    ]);
    expect(first).toMatchObject({ message: expect.stringContaining('(127.0.0.2) is in a loopback range') });
    expect(second).toMatchObject({ remoteAddress: '127.0.0.1' });
    expect(internal.hits).toEqual([]);
    expect(publicStandIn.hits).toEqual(['POST /hook']);
    expect(
      dnsServer.queries.filter((query) => query === 'A rebind.example.test').length,
    ).toBeGreaterThanOrEqual(4);
  });

  it('When a name has one allowed and one private address, then it is refused outright', async () => {
    answers.set('mixed.example.test', (type) => (type === 'A' ? ['127.0.0.1', '127.0.0.2'] : []));
    const result = await sender().send({
      url: `http://mixed.example.test:${publicStandIn.port}/`,
      body: '{}',
    });
    expect(errorOf(result)).toBe('refused_destination');
    expect(publicStandIn.hits).toEqual([]);
    expect(internal.hits).toEqual([]);
  });

  it.each([
    ['IPv6 loopback', { AAAA: ['::1'] }],
    ['IPv4-mapped loopback', { AAAA: ['::ffff:127.0.0.2'] }],
    ['cloud metadata', { A: ['169.254.169.254'] }],
    ['a private address', { A: ['10.1.2.3'] }],
    ['an IPv4 answer allowed but an IPv6 one not', { A: ['127.0.0.1'], AAAA: ['fe80::1'] }],
  ])('When a name resolves to %s, then it is refused', async (_case, records) => {
    answers.set('sneaky.example.test', (type) => (records as Record<string, string[]>)[type] ?? []);
    const result = await sender().send({
      url: `http://sneaky.example.test:${publicStandIn.port}/`,
      body: '{}',
    });
    expect(result).toMatchObject({
      outcome: 'failure',
      error: 'refused_destination',
      code: 'special_address',
    });
    expect(publicStandIn.hits).toEqual([]);
    expect(internal.hits).toEqual([]);
  });

  it('When a name resolves to an allowed address only, then the request is delivered there', async () => {
    answers.set('hooks.example.test', (type) => (type === 'A' ? ['127.0.0.1'] : []));
    const result = await sender().send({
      url: `http://hooks.example.test:${publicStandIn.port}/ok`,
      body: '{}',
    });
    expect(result).toMatchObject({ outcome: 'response', status: 200, excerpt: 'reached' });
    expect(publicStandIn.hits).toEqual(['POST /ok']);
  });

  it('When a name does not exist, then the failure is dns_failure and retryable', async () => {
    const result = await sender().send({
      url: `http://missing.example.test:${publicStandIn.port}/`,
      body: '{}',
    });
    expect(result).toMatchObject({
      outcome: 'failure',
      error: 'dns_failure',
      code: 'ENOTFOUND',
      retryable: true,
    });
  });
});
