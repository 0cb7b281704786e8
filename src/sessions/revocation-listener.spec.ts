import { createServer, Socket, type Server } from 'node:net';
import type { Logger } from '@nestjs/common';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { RevocationListener, type ListenerLoss, type ListenerState } from './revocation-listener.js';

/**
 * A TCP proxy in front of the test database that can refuse connections (server down), or keep
 * them open and pass nothing (a frozen backend), and counts the connections it holds.
 */
class FaultyProxy {
  mode: 'pass' | 'refuse' | 'silent' = 'pass';
  attempts = 0;
  maxOpen = 0;
  readonly open = new Set<Socket>();
  private readonly server: Server;

  constructor(
    private readonly upstreamHost: string,
    private readonly upstreamPort: number,
  ) {
    this.server = createServer((client) => this.accept(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as { port: number }).port;
  }

  private accept(client: Socket): void {
    this.attempts++;
    if (this.mode === 'refuse') {
      client.destroy();
      return;
    }
    this.open.add(client);
    this.maxOpen = Math.max(this.maxOpen, this.open.size);
    const upstream = new Socket().connect(this.upstreamPort, this.upstreamHost);
    const close = () => {
      this.open.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk) => this.mode === 'pass' && upstream.write(chunk));
    upstream.on('data', (chunk) => this.mode === 'pass' && client.write(chunk));
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  }

  /** Drops every connection it holds, as a server restart does. */
  dropAll(): void {
    for (const socket of this.open) socket.destroy();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('RevocationListener', () => {
  const upstream = new URL(inject('databaseDirectUrl'));
  let proxy: FaultyProxy;
  let listener: RevocationListener | undefined;
  const logs: string[] = [];
  const states: ListenerState[] = [];
  const losses: ListenerLoss[] = [];
  const payloads: (string | undefined)[] = [];
  let connected = 0;

  async function startListener(): Promise<RevocationListener> {
    const port = await proxy.listen();
    const url = new URL(upstream);
    url.hostname = '127.0.0.1';
    url.port = String(port);
    listener = new RevocationListener({
      url: url.toString(),
      channel: 'listener_spec',
      applicationName: 'revocation listener spec',
      logger: { log: (line: string) => logs.push(line), warn: (line: string) => logs.push(line) } as unknown as Logger,
      onPayload: (payload) => payloads.push(payload),
      onConnected: async () => {
        connected++;
      },
      onStateChange: (state) => states.push(state),
      onLost: (cause) => losses.push(cause),
      timings: { connectTimeoutMs: 300, heartbeatIntervalMs: 100, heartbeatTimeoutMs: 300, backoffBaseMs: 20, backoffMaxMs: 200 },
    });
    await listener.start();
    return listener;
  }

  afterEach(async () => {
    await listener?.stop();
    listener = undefined;
    await proxy.close();
    logs.length = states.length = losses.length = payloads.length = connected = 0;
  });

  it('keeps exactly one connection through an outage, retries with backoff, logs once per state change', async () => {
    proxy = new FaultyProxy(upstream.hostname, Number(upstream.port || 5432));
    const subject = await startListener();
    expect(subject.state).toBe('listening');
    expect(subject.backendPid).toBeTypeOf('number');

    proxy.mode = 'refuse';
    proxy.dropAll();
    await until(() => subject.state === 'down', 'the listener to notice');
    const attemptsAtDown = proxy.attempts;
    await until(() => proxy.attempts >= attemptsAtDown + 5, 'several reconnect attempts');
    proxy.mode = 'pass';
    await until(() => subject.state === 'listening', 'the listener to reconnect');

    expect(proxy.open.size).toBe(1);
    expect(proxy.maxOpen).toBe(1);
    expect(connected).toBe(2); // the start, and the reconnect (each followed by a resync)
    expect(states).toEqual(['listening', 'down', 'listening']);
    expect(losses).toEqual(['connection']);
    // One line going down and one coming back, however many attempts failed in between.
    expect(logs).toHaveLength(2);
    expect(logs[1]).toMatch(/listening again after .* attempt/);
  });

  it('notices a connection that stays open but delivers nothing, by its heartbeat, and replaces it', async () => {
    proxy = new FaultyProxy(upstream.hostname, Number(upstream.port || 5432));
    const subject = await startListener();
    // Heartbeats are echoed and kept to the listener itself.
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(subject.state).toBe('listening');

    proxy.mode = 'silent';
    await until(() => subject.state === 'down', 'the heartbeat to miss');
    expect(losses).toEqual(['heartbeat']);
    // The silent connection was closed from our side, not left open beside the next one.
    await until(() => proxy.open.size === 0, 'the silent connection to be closed');
    proxy.mode = 'pass';
    await until(() => subject.state === 'listening', 'a new connection');

    expect(proxy.attempts).toBeGreaterThan(1);
    expect(proxy.open.size).toBe(1);
    expect(proxy.maxOpen).toBe(1);
    expect(payloads).toEqual([]);
  });

  it('stop() ends the connection and any reconnecting', async () => {
    proxy = new FaultyProxy(upstream.hostname, Number(upstream.port || 5432));
    const subject = await startListener();
    proxy.mode = 'refuse';
    proxy.dropAll();
    await until(() => subject.state === 'down', 'the listener to notice');
    // Attempts now hang while connecting (accepted, never answered): stop() must cut one short.
    proxy.mode = 'silent';
    await until(() => proxy.open.size === 1, 'a reconnect attempt in progress');

    await subject.stop();
    const attempts = proxy.attempts;
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(subject.state).toBe('stopped');
    expect(proxy.attempts).toBe(attempts);
    expect(proxy.open.size).toBe(0);
  });

  it('start() fails, leaving nothing open, when the first connection cannot be made', async () => {
    proxy = new FaultyProxy(upstream.hostname, Number(upstream.port || 5432));
    proxy.mode = 'refuse';

    await expect(startListener()).rejects.toThrow();
    listener = undefined;
    expect(proxy.open.size).toBe(0);
  });
});
