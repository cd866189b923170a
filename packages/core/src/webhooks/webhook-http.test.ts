import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { systemResolver } from './ssrf-guard';
import { WebhookHttpClient } from './webhook-http';

const client = new WebhookHttpClient({
  policy: { allowPrivate: true, resolve: systemResolver },
  timeoutMs: 2000,
  maxResponseBytes: 1024,
});
const servers: Server[] = [];

/** A TCP server on 127.0.0.1 that does `onConnection` with every socket; its URL. */
async function tcpServer(onConnection: (socket: import('node:net').Socket) => void): Promise<string> {
  const server = createServer(onConnection);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`;
}

afterAll(async () => {
  client.close();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('a failed delivery attempt', () => {
  it('says what went wrong in words an operator can act on, with the code and message after', async () => {
    // A port that was just free: nothing listens there.
    const closedUrl = await tcpServer(() => {});
    await new Promise((resolve) => (servers.pop() as Server).close(resolve));
    const refused = await client.post(closedUrl, {}, '{}');
    expect(refused.statusCode).toBeNull();
    expect(refused.error).toMatch(/^connection refused: nothing listens at that address and port .*ECONNREFUSED/);

    // A receiver that reads the request and closes the connection without answering.
    const closingUrl = await tcpServer((socket) => socket.once('data', () => socket.end()));
    const cut = await client.post(closingUrl, {}, '{}');
    expect(cut.statusCode).toBeNull();
    expect(cut.error).toMatch(/^the receiver closed the connection before answering \(UND_ERR_SOCKET: /);
  });
});
