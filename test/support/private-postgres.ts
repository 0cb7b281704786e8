import { execFile } from 'node:child_process';
import { appendFile, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './service-process.js';

const run = promisify(execFile);

/** Debian's PostgreSQL 15 server binaries (the `postgresql-15` package). */
export const PG_BIN = '/usr/lib/postgresql/15/bin';
const OS_USER = 'postgres';

/** Runs a server binary as the `postgres` OS user: initdb and the postmaster refuse to run as root. */
async function asPostgres(binary: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const { stdout } = await run('runuser', ['-u', OS_USER, '--', join(PG_BIN, binary), ...args], { timeout: timeoutMs });
  return stdout;
}

async function userIds(name: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone: nothing left to freeze or thaw.
  }
}

/**
 * A throwaway PostgreSQL 15 cluster for one test file, so faults (stop, restart, SIGSTOP) hit no
 * one else: its own data directory (a mkdtemp owned by `postgres`), a free port on 127.0.0.1, trust
 * authentication, fsync off. Needs root (to act as `postgres`) and the Debian server package.
 */
export class PrivatePostgres {
  private readonly frozen = new Set<number>();

  private constructor(
    readonly dataDir: string,
    readonly port: number,
  ) {}

  /** initdb and start; `settings` are appended to postgresql.conf (e.g. max_connections). */
  static async create(settings: Record<string, string | number> = {}): Promise<PrivatePostgres> {
    const dataDir = await mkdtemp(join(tmpdir(), 'private-pg-'));
    const { uid, gid } = await userIds(OS_USER);
    await chown(dataDir, uid, gid);
    const port = await freePort();
    const cluster = new PrivatePostgres(dataDir, port);
    try {
      await asPostgres('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
      const conf = {
        port,
        listen_addresses: `'127.0.0.1'`,
        unix_socket_directories: `'${dataDir}'`,
        fsync: 'off',
        synchronous_commit: 'off',
        full_page_writes: 'off',
        max_connections: 100,
        shared_buffers: `'32MB'`,
        ...settings,
      };
      await appendFile(
        join(dataDir, 'postgresql.conf'),
        Object.entries(conf)
          .map(([key, value]) => `${key} = ${value}\n`)
          .join(''),
      );
      await cluster.start();
    } catch (error) {
      await cluster.cleanup();
      throw error;
    }
    return cluster;
  }

  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    await asPostgres('pg_ctl', ['-D', this.dataDir, '-l', join(this.dataDir, 'server.log'), '-w', '-t', '60', 'start']);
  }

  /** A fast shutdown: every connection is terminated (57P01) and new ones are refused until start(). */
  async stop(): Promise<void> {
    this.thaw();
    await asPostgres('pg_ctl', ['-D', this.dataDir, '-m', 'fast', '-w', '-t', '60', 'stop']);
  }

  /** stop() then start(): a short outage (pg_ctl restart would attach the server to our stdout). */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async postmasterPid(): Promise<number> {
    const lines = (await readFile(join(this.dataDir, 'postmaster.pid'), 'utf8')).split('\n');
    return Number(lines[0]);
  }

  /** Every process of the cluster: the postmaster, then its children (backends, checkpointer...). */
  async processes(): Promise<number[]> {
    const postmaster = await this.postmasterPid();
    const children = await run('pgrep', ['-P', String(postmaster)]).then(
      ({ stdout }) => stdout.split('\n').filter(Boolean).map(Number),
      () => [] as number[],
    );
    return [postmaster, ...children];
  }

  /**
   * SIGSTOP to the postmaster and all its children: connections stay open and TCP connects still
   * complete (the kernel's backlog), but nothing answers, as with a hung host or storage.
   */
  async freeze(): Promise<void> {
    for (const pid of await this.processes()) {
      signal(pid, 'SIGSTOP');
      this.frozen.add(pid);
    }
  }

  /** SIGCONT to everything freeze() or freezeBackend() stopped. */
  thaw(): void {
    for (const pid of this.frozen) signal(pid, 'SIGCONT');
    this.frozen.clear();
  }

  /** SIGSTOPs one backend (say, a LISTEN connection): its connection stays open and delivers nothing. */
  freezeBackend(pid: number): void {
    signal(pid, 'SIGSTOP');
    this.frozen.add(pid);
  }

  /** Client connections by application_name, as the server sees them (this query's own excluded). */
  async connections(): Promise<Record<string, number>> {
    const client = new pg.Client({ connectionString: this.url(), connectionTimeoutMillis: 5000, application_name: 'private-postgres harness' });
    await client.connect();
    try {
      const { rows } = await client.query<{ application_name: string; count: string }>(
        `SELECT application_name, count(*) FROM pg_stat_activity
          WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() GROUP BY application_name`,
      );
      return Object.fromEntries(rows.map((row) => [row.application_name, Number(row.count)]));
    } finally {
      await client.end();
    }
  }

  /**
   * Client backends counted from the process table: works when the server refuses connections
   * ("too many clients"), where connections() cannot.
   */
  async clientBackends(): Promise<number> {
    const postmaster = await this.postmasterPid();
    const { stdout } = await run('ps', ['--ppid', String(postmaster), '-o', 'args=']).catch(() => ({ stdout: '' }));
    return stdout.split('\n').filter((title) => /^postgres: .*127\.0\.0\.1\(\d+\)/.test(title)).length;
  }

  /** Backend pids with this application_name. */
  async backendPids(applicationName: string): Promise<number[]> {
    const client = new pg.Client({ connectionString: this.url(), connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
      return rows.map((row) => row.pid);
    } finally {
      await client.end();
    }
  }

  /** Thaws, stops (immediate) and deletes the cluster; safe to call more than once. */
  async cleanup(): Promise<void> {
    this.thaw();
    await asPostgres('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', '-t', '30', 'stop']).catch(() => undefined);
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
