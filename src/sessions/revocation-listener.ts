import { randomUUID } from 'node:crypto';
import type { Logger } from '@nestjs/common';
import pg from 'pg';

/** `listening`: LISTEN is in place and the last heartbeat came back. `down`: reconnecting. */
export type ListenerState = 'listening' | 'down' | 'stopped';

/** Why a listening connection was given up, as counted in auth_revocation_listener_lost_total. */
export type ListenerLoss = 'connection' | 'heartbeat';

export interface ListenerTimings {
  /** Connecting (TCP, TLS, startup) and each query on the connection: LISTEN, heartbeats. */
  readonly connectTimeoutMs: number;
  /** Pause between a heartbeat's echo and the next heartbeat. */
  readonly heartbeatIntervalMs: number;
  /** A heartbeat not echoed within this is a lost listener. */
  readonly heartbeatTimeoutMs: number;
  /** First reconnect delay; doubled per failed attempt up to `backoffMaxMs`, each drawn in [50 %, 100 %]. */
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

export const DEFAULT_LISTENER_TIMINGS: ListenerTimings = {
  connectTimeoutMs: 5000,
  heartbeatIntervalMs: 3000,
  heartbeatTimeoutMs: 3000,
  backoffBaseMs: 250,
  backoffMaxMs: 5000,
};

export interface RevocationListenerOptions {
  readonly url: string;
  readonly channel: string;
  readonly applicationName: string;
  readonly logger: Logger;
  /** Every notification on the channel but this listener's own heartbeats. */
  onPayload(payload: string | undefined): void;
  /**
   * Runs once LISTEN is in place on a new connection, before the state is `listening`: whatever
   * was announced while no one listened is in the database. Failing fails the first start; after
   * a reconnect it is logged and the listener counts as listening all the same.
   */
  onConnected(): Promise<void>;
  onStateChange?(state: ListenerState): void;
  onLost?(cause: ListenerLoss): void;
  readonly timings?: Partial<ListenerTimings>;
}

interface ClientInternals {
  processID?: number | null;
  connection?: { stream?: { destroy(): void } };
}

const HEARTBEAT_KIND = 'heartbeat';

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * The one LISTEN connection of a replica, outside the pool (LISTEN lives as long as its session,
 * so it needs a direct connection, not a transaction pooler). One connection at a time, whatever
 * fails: a single loop owns it, opens the next only after the last is destroyed, and waits a capped,
 * jittered exponential backoff between failed attempts. A heartbeat (a NOTIFY on the channel, sent
 * on this connection, which Postgres delivers back to the session that listens) proves every few
 * seconds that the connection still delivers; a missing echo counts as a lost connection, so a
 * backend that hangs with its socket open is noticed. One log line per state change.
 */
export class RevocationListener {
  private readonly timings: ListenerTimings;
  /** Tells this replica's heartbeats from other replicas' (which it ignores). */
  private readonly replica = randomUUID();
  private current: pg.Client | undefined;
  /** Clients whose connect() resolved: only those are told goodbye (Terminate) before closing. */
  private readonly connected = new WeakSet<pg.Client>();
  private currentState: ListenerState = 'down';
  private loop: Promise<void> | undefined;
  private interrupt: (() => void) | undefined;
  private onEcho: ((seq: number) => void) | undefined;

  constructor(private readonly options: RevocationListenerOptions) {
    this.timings = { ...DEFAULT_LISTENER_TIMINGS, ...options.timings };
  }

  get state(): ListenerState {
    return this.currentState;
  }

  /** The server process id of the listening connection (pg_stat_activity.pid), while listening. */
  get backendPid(): number | undefined {
    if (this.currentState !== 'listening') return undefined;
    return (this.current as unknown as ClientInternals | undefined)?.processID ?? undefined;
  }

  /** Connects and listens once (throwing if that fails), then keeps a connection until stop(). */
  async start(): Promise<void> {
    const client = await this.open();
    try {
      await this.options.onConnected();
    } catch (error) {
      this.destroy(client);
      throw error;
    }
    this.setState('listening');
    this.loop = this.run(client);
  }

  async stop(): Promise<void> {
    this.setState('stopped');
    this.interrupt?.();
    // Also aborts a connection attempt in progress, which would otherwise run to its timeout.
    if (this.current !== undefined) this.destroy(this.current);
    await this.loop;
    if (this.current !== undefined) this.destroy(this.current);
  }

  private async run(first: pg.Client): Promise<void> {
    let client: pg.Client | undefined = first;
    let failures = 0;
    let downSince = 0;
    let lastError = '';
    while (!this.stopped()) {
      if (client === undefined) {
        await this.pause(this.backoff(failures));
        if (this.stopped()) break;
        try {
          client = await this.open();
        } catch (error) {
          failures++;
          lastError = describe(error);
          continue;
        }
        await this.options.onConnected().catch((error: unknown) => {
          this.options.logger.warn(`Revocation listener reconnected, but the resync after it failed: ${describe(error)}`);
        });
        if (this.stopped()) break;
        this.setState('listening');
        const seconds = ((Date.now() - downSince) / 1000).toFixed(1);
        this.options.logger.log(
          `Revocation listener listening again after ${seconds} s and ${failures + 1} attempt(s)` +
            (lastError === '' ? '' : `; last failure: ${lastError}`),
        );
        failures = 0;
        lastError = '';
      }
      const lost = await this.watch(client);
      this.destroy(client);
      client = undefined;
      if (lost === undefined) break;
      this.options.onLost?.(lost.cause);
      downSince = Date.now();
      this.setState('down');
      this.options.logger.warn(`Revocation listener lost (${lost.reason}); reconnecting with backoff, resyncing every second meanwhile`);
    }
  }

  /** A connected client with LISTEN in place; nothing is left open if any step fails. */
  private async open(): Promise<pg.Client> {
    const { connectTimeoutMs } = this.timings;
    const client = new pg.Client({
      connectionString: this.options.url,
      application_name: this.options.applicationName,
      connectionTimeoutMillis: connectTimeoutMs,
      query_timeout: connectTimeoutMs,
      keepAlive: true,
    });
    // Errors are handled by watch(); without a listener an 'error' event would crash the process.
    client.on('error', () => undefined);
    client.on('notification', (message) => this.deliver(message.payload));
    this.current = client;
    try {
      await client.connect();
      this.connected.add(client);
      await client.query(`LISTEN ${this.options.channel}`);
      return client;
    } catch (error) {
      this.destroy(client);
      throw error;
    }
  }

  private deliver(payload: string | undefined): void {
    if (payload?.includes(`"kind":"${HEARTBEAT_KIND}"`)) {
      try {
        const beat = JSON.parse(payload) as { kind?: unknown; replica?: unknown; seq?: unknown };
        if (beat.kind === HEARTBEAT_KIND) {
          if (beat.replica === this.replica && typeof beat.seq === 'number') this.onEcho?.(beat.seq);
          return;
        }
      } catch {
        // Not a heartbeat after all.
      }
    }
    this.options.onPayload(payload);
  }

  /** Resolves when the connection is lost (why), or undefined once stop() is called. */
  private watch(client: pg.Client): Promise<{ cause: ListenerLoss; reason: string } | undefined> {
    const { heartbeatIntervalMs, heartbeatTimeoutMs } = this.timings;
    return new Promise((resolve) => {
      let settled = false;
      let seq = 0;
      let timer: NodeJS.Timeout | undefined;
      const finish = (outcome: { cause: ListenerLoss; reason: string } | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.onEcho = undefined;
        this.interrupt = undefined;
        client.removeListener('error', onError);
        client.removeListener('end', onEnd);
        resolve(outcome);
      };
      const onError = (error: Error) => finish({ cause: 'connection', reason: `connection error: ${error.message}` });
      const onEnd = () => finish({ cause: 'connection', reason: 'connection closed' });
      const later = (fn: () => void, ms: number) => {
        clearTimeout(timer);
        timer = setTimeout(fn, ms);
        timer.unref();
      };
      const beat = () => {
        seq++;
        const payload = JSON.stringify({ kind: HEARTBEAT_KIND, replica: this.replica, seq });
        later(() => finish({ cause: 'heartbeat', reason: `no heartbeat echo within ${heartbeatTimeoutMs} ms` }), heartbeatTimeoutMs);
        client.query('SELECT pg_notify($1, $2)', [this.options.channel, payload]).catch((error: unknown) => {
          finish({ cause: 'heartbeat', reason: `heartbeat failed: ${describe(error)}` });
        });
      };
      client.on('error', onError);
      client.on('end', onEnd);
      this.interrupt = () => finish(undefined);
      this.onEcho = (echoed) => {
        if (echoed === seq) later(beat, heartbeatIntervalMs);
      };
      later(beat, heartbeatIntervalMs);
    });
  }

  /**
   * Closes at once, whatever the server does: end() alone would wait for a hung backend. The
   * server notices the closed socket when (if) it runs again. A client still connecting only has
   * its socket destroyed (which fails its connect()); end() there would leave connect() pending forever.
   */
  private destroy(client: pg.Client): void {
    if (this.current === client) this.current = undefined;
    if (this.connected.has(client)) client.end().catch(() => undefined);
    (client as unknown as ClientInternals).connection?.stream?.destroy();
  }

  private backoff(failures: number): number {
    const { backoffBaseMs, backoffMaxMs } = this.timings;
    const ceiling = Math.min(backoffMaxMs, backoffBaseMs * 2 ** failures);
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  /** Sleeps, unless stop() comes first. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.interrupt = undefined;
        resolve();
      }, ms);
      timer.unref();
      this.interrupt = () => {
        clearTimeout(timer);
        this.interrupt = undefined;
        resolve();
      };
    });
  }

  /** A method, not a field read, so the compiler does not narrow it across awaits. */
  private stopped(): boolean {
    return this.currentState === 'stopped';
  }

  private setState(state: ListenerState): void {
    if (this.currentState === state || this.currentState === 'stopped') return;
    this.currentState = state;
    this.options.onStateChange?.(state);
  }
}
