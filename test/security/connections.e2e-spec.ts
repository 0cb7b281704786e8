import { Agent, get } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';

const MAX_CONNECTIONS = 4;

/** Connection exhaustion: idle sockets held open by an attacker, beyond what the service accepts. */
describe('attack suite: connection limits', () => {
  let t: TestApp;
  let port: number;
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });

  beforeAll(async () => {
    t = await startTestApp({
      HTTP_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
      HTTP_IDLE_TIMEOUT: '3',
      DATABASE_STATEMENT_TIMEOUT_MS: '1000',
    });
    port = (t.app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(async () => {
    keepAlive.destroy();
    await t.close();
  });

  /** A GET over the established keep-alive connection. */
  const liveOverKeepAlive = () =>
    new Promise<number>((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: '/health/live', agent: keepAlive }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      }).on('error', reject);
    });
  const openIdle = () =>
    new Promise<Socket>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(socket));
      socket.on('error', reject);
    });
  /** What a fresh connection gets for a request: the status line, or null if it was closed unanswered. */
  const freshRequest = () =>
    new Promise<string | null>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(received === '' ? null : received.split('\r\n')[0]!));
    });
  const closed = (socket: Socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.on('close', () => resolve())));

  it('beyond the limit a new connection is closed at once while an existing client keeps being served; idle sockets time out and free their slots', async () => {
    expect(await liveOverKeepAlive()).toBe(200);
    const idle = await Promise.all(Array.from({ length: MAX_CONNECTIONS - 1 }, openIdle));

    expect(await freshRequest()).toBeNull();
    expect(await liveOverKeepAlive()).toBe(200);

    // Sockets that never send a request are closed by the server (HTTP_IDLE_TIMEOUT).
    await Promise.all(idle.map(closed));
    expect(await freshRequest()).toBe('HTTP/1.1 200 OK');
  }, 30_000);
});
