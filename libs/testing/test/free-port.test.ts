import { createServer } from 'node:net';
import { freePort } from '../src/index.js';

describe('freePort', () => {
  test('When a free port is asked for, then a server can listen on it on 127.0.0.1', async () => {
    const port = await freePort();
    const server = createServer();

    await new Promise<void>((resolve, reject) =>
      server.once('error', reject).listen(port, '127.0.0.1', resolve),
    );

    expect(port).toBeGreaterThan(0);
    expect(server.address()).toMatchObject({ address: '127.0.0.1', port });
    await new Promise((resolve) => server.close(resolve));
  });
});
