import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { Algorithm, hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import autocannon from 'autocannon';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { loadConfig } from '../src/config/app-config.js';
import { freePort, refreshChainRequest, waitUntilAnswering } from './support.js';

/**
 * `npm run bench:peers [PEERS_DIR]`: the service side by side with what its users would pick
 * instead (the peers in ../shared/bench: Better Auth, oidc-provider) and with a bare Fastify route,
 * in one run on one machine, through the peers' own harness (run-bench.mjs, compare.sh: every
 * scenario A, B, A, B). The service runs as `npm start` runs it, with production settings and its
 * request log written to a file. Writes docs/benchmarks.md.
 *
 * BENCH_DATABASE_URL: a PostgreSQL server's maintenance database (default the local server); the
 * run creates and drops its own databases there. BENCH_DURATION (s per run, 10), COMPARE_ROUNDS (2),
 * BENCH_SOAK_SECONDS (mixed load for the memory check, 300).
 */

const PEERS_SOURCE = resolve(process.argv[2] ?? process.env.BENCH_PEERS_DIR ?? '../shared/bench');
const WORK = resolve('.bench-peers');
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const ROUNDS = Number(process.env.COMPARE_ROUNDS ?? 2);
const SOAK_SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 300);
/** The harness's defaults, used for the runs made here too. */
const CONNECTIONS = 50;
const LOGIN_CONNECTIONS = 20;
const HARNESS_PASSWORD = 'Bench-Passw0rd!-correct-horse-battery-7f3a';
const OIDC_CLIENT = { id: 'bench-client', secret: 'bench-secret-0123456789abcdef0123456789abcdef', scope: 'api:read' };
const ADMIN = { email: 'bench-admin@example.com', password: 'bench admin password 0123456789' };
const MIB = 1024 * 1024;

const log = (line: string) => console.error(`[bench:peers] ${line}`);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** The peers and their harness, copied out of the read-only folder and installed once. */
function preparePeers(): void {
  if (!existsSync(join(PEERS_SOURCE, 'run-bench.mjs'))) throw new Error(`no harness in ${PEERS_SOURCE} (pass the peers' folder)`);
  mkdirSync(WORK, { recursive: true });
  cpSync(PEERS_SOURCE, WORK, { recursive: true, force: true, filter: (path) => !path.includes('node_modules') });
  execFileSync('chmod', ['-R', 'u+w', WORK]);
  for (const dir of [WORK, join(WORK, 'peer-better-auth'), join(WORK, 'peer-oidc-provider')]) {
    if (!existsSync(join(dir, 'node_modules'))) {
      log(`npm ci in ${dir}`);
      execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    }
  }
}

interface Running {
  readonly base: string;
  readonly process: ChildProcess;
}

async function start(name: string, args: string[], cwd: string, env: Record<string, string>, readyPath: string): Promise<Running> {
  const port = await freePort();
  const output = openSync(join(WORK, `${name}.log`), 'w');
  const child = spawn(process.execPath, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), ...env },
    stdio: ['ignore', output, output],
  });
  const base = `http://127.0.0.1:${port}`;
  await waitUntilAnswering(`${base}${readyPath}`, child);
  return { base, process: child };
}

function rssMiB(child: ChildProcess): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** compare.sh's summary lines: one object per scenario with both sides' means and the ratios. */
function compare(a: Running, b: Running, labelB: string, scenarios: string): Array<Record<string, number | string>> {
  log(`compare.sh service vs ${labelB}: ${scenarios}`);
  const output = execFileSync(join(WORK, 'compare.sh'), [a.base, b.base], {
    env: {
      ...process.env,
      BENCH_SCENARIOS: scenarios,
      BENCH_DURATION: String(DURATION),
      COMPARE_ROUNDS: String(ROUNDS),
      COMPARE_LABEL_A: 'service',
      COMPARE_LABEL_B: labelB,
    },
    stdio: ['ignore', 'pipe', 'ignore'],
    encoding: 'utf8',
    maxBuffer: 64 * MIB,
  });
  return output
    .split('\n')
    .filter((line) => line.startsWith('{"compare"'))
    .map((line) => JSON.parse(line) as Record<string, number | string>);
}

interface Measured {
  readonly rps: number;
  readonly p99: number;
}

async function load(options: autocannon.Options): Promise<Measured> {
  const result = await autocannon({ connections: CONNECTIONS, duration: DURATION, ...options });
  if (result.non2xx + result.errors > 0) log(`${String(options.url)}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, p99: result.latency.p99 };
}

/** Two targets alternately (A, B, A, B ...), each after 2 s of untimed warm-up; means of each side. */
async function alternate(a: autocannon.Options, b: autocannon.Options): Promise<[Measured, Measured]> {
  const runs: [Measured[], Measured[]] = [[], []];
  for (let round = 0; round < ROUNDS; round++) {
    for (const [side, options] of [a, b].entries()) {
      await autocannon({ connections: CONNECTIONS, duration: 2, ...options });
      runs[side]!.push(await load(options));
    }
  }
  const mean = (side: Measured[]): Measured => ({
    rps: side.reduce((sum, run) => sum + run.rps, 0) / side.length,
    p99: side.reduce((sum, run) => sum + run.p99, 0) / side.length,
  });
  return [mean(runs[0]), mean(runs[1])];
}

async function postJson(base: string, path: string, body: object, token?: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  });
  if (!res.ok && res.status !== 409) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/** argon2id verifications per second on this machine with nothing else to do: the bound login is held against. */
async function argon2Bound(): Promise<number> {
  const { memoryCostKib, timeCost, parallelism } = loadConfig({ NODE_ENV: 'test' }).argon2;
  const stored = await argon2Hash(HARNESS_PASSWORD, { algorithm: Algorithm.Argon2id, memoryCost: memoryCostKib, timeCost, parallelism });
  let done = 0;
  const until = Date.now() + 5000;
  const worker = async () => {
    while (Date.now() < until) {
      await argon2Verify(stored, HARNESS_PASSWORD);
      done++;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: 2 * cpus().length }, worker));
  return done / ((Date.now() - started) / 1000);
}

/** The harness's login users (bench-1000 ...), one per connection, logging in over and over. */
function loginFlood(base: string, duration: number): Promise<autocannon.Result> {
  let next = 0;
  return autocannon({
    url: base,
    connections: LOGIN_CONNECTIONS,
    duration,
    setupClient: (client) => {
      const email = `bench-${1000 + (next++ % LOGIN_CONNECTIONS)}@example.com`;
      const body = JSON.stringify({ email, password: HARNESS_PASSWORD });
      client.setRequests([{ method: 'POST', path: '/auth/login', headers: { 'content-type': 'application/json' }, body }]);
    },
  });
}

/** /auth/me at a steady 1,000 requests/s: its p99 alone, then while logins saturate the machine. */
async function meLatencyUnderLoginFlood(base: string, token: string): Promise<{ quiet: number; flood: number }> {
  const me = () =>
    autocannon({ url: `${base}/auth/me`, headers: { authorization: `Bearer ${token}` }, connections: 10, overallRate: 1000, duration: DURATION });
  const quiet = await me();
  const [flood] = await Promise.all([me(), loginFlood(base, DURATION + 2)]);
  return { quiet: quiet.latency.p99, flood: flood.latency.p99 };
}

/** Mixed load for SOAK_SECONDS (me, JWKS, refresh chains, logins); the service's RSS every 10 s. */
async function soak(service: Running, token: string, refreshTokens: string[]): Promise<number[]> {
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(rssMiB(service.process)), 10_000);
  const common = { duration: SOAK_SECONDS };
  await Promise.all([
    autocannon({ ...common, url: `${service.base}/auth/me`, headers: { authorization: `Bearer ${token}` }, connections: 10, overallRate: 2000 }),
    autocannon({ ...common, url: `${service.base}/.well-known/jwks.json`, connections: 5, overallRate: 500 }),
    autocannon({ ...common, url: service.base, connections: 10, overallRate: 100, requests: [refreshChainRequest([...refreshTokens])] }),
    loginFlood(service.base, SOAK_SECONDS),
  ]);
  clearInterval(sampler);
  return samples;
}

async function main(): Promise<void> {
  preparePeers();
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const suffix = `${Date.now().toString(36)}`;
  const databases = { service: `bench_service_${suffix}`, betterAuth: `bench_better_auth_${suffix}` };
  for (const name of Object.values(databases)) await admin.query(`CREATE DATABASE ${name}`);
  const databaseUrl = (name: string) => Object.assign(new URL(ADMIN_URL), { pathname: `/${name}` }).toString();

  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData: (stream, _session, done) => stream.on('end', () => done()).resume(),
  });
  const smtpPort = await freePort();
  await new Promise<void>((done) => smtp.listen(smtpPort, '127.0.0.1', done));

  const running: Running[] = [];
  try {
    const service = await start(
      'service',
      ['dist/src/main.js'],
      process.cwd(),
      {
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        DATABASE_URL: databaseUrl(databases.service),
        JWT_ISSUER: 'http://bench.test',
        KEYS_KEK: randomBytes(32).toString('base64'),
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        METRICS_PORT: String(await freePort()),
        BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
        BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
        // The harness is one client address sending far more than any client may, and logs its users in again and again.
        RATE_LIMIT_IP_PER_MINUTE: '100000000',
        LOGIN_FREE_FAILURES: '100',
      },
      '/health/ready',
    );
    running.push(service);
    const betterAuthDir = join(WORK, 'peer-better-auth');
    const betterAuthEnv = { NODE_ENV: 'production', DATABASE_URL: databaseUrl(databases.betterAuth) };
    execFileSync(process.execPath, ['src/migrate.mjs'], { cwd: betterAuthDir, env: { ...process.env, ...betterAuthEnv }, stdio: 'ignore' });
    const betterAuth = await start('better-auth', ['src/server.mjs'], betterAuthDir, betterAuthEnv, '/.well-known/jwks.json');
    running.push(betterAuth);
    const oidc = await start(
      'oidc-provider',
      ['src/server.mjs'],
      join(WORK, 'peer-oidc-provider'),
      { NODE_ENV: 'production' },
      '/.well-known/jwks.json',
    );
    running.push(oidc);
    const bare = await start('bare-fastify', ['dist/bench/bare-fastify.js'], process.cwd(), {}, '/health/live');
    running.push(bare);

    await sleep(10_000);
    const idle = { service: rssMiB(service.process), betterAuth: rssMiB(betterAuth.process) };
    log(`idle RSS: service ${idle.service.toFixed(0)} MiB, Better Auth ${idle.betterAuth.toFixed(0)} MiB`);

    const versusBetterAuth = compare(service, betterAuth, 'better_auth', 'jwks,me,me_cold,refresh,login');
    const versusOidc = compare(service, oidc, 'oidc_provider', 'jwks');

    log('unguarded route against bare Fastify');
    const [unguarded, bareRoute] = await alternate({ url: `${service.base}/health/live` }, { url: `${bare.base}/health/live` });

    log('client credentials against oidc-provider');
    const adminToken = String((await postJson(service.base, '/auth/login', ADMIN)).access_token);
    const client = await postJson(
      service.base,
      '/admin/clients',
      { name: 'bench', scopes: [OIDC_CLIENT.scope], auth_method: 'client_secret_basic' },
      adminToken,
    );
    const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    const form = (authorization: string) => ({
      method: 'POST' as const,
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
      body: `grant_type=client_credentials&scope=${encodeURIComponent(OIDC_CLIENT.scope)}`,
    });
    const [clientCredentials, oidcToken] = await alternate(
      { url: `${service.base}/oauth/token`, ...form(basic(String(client.client_id), String(client.client_secret))) },
      { url: `${oidc.base}/token`, ...form(basic(OIDC_CLIENT.id, OIDC_CLIENT.secret)) },
    );

    log('argon2id bound, and /auth/me during a login flood');
    const bound = await argon2Bound();
    const meUser = await postJson(service.base, '/auth/login', { email: 'bench-0@example.com', password: HARNESS_PASSWORD });
    const meP99 = await meLatencyUnderLoginFlood(service.base, String(meUser.access_token));

    log(`memory over ${SOAK_SECONDS} s of mixed load`);
    const chains = await Promise.all(
      Array.from({ length: 20 }, async (_, i) =>
        String((await postJson(service.base, '/auth/login', { email: `bench-${2000 + i}@example.com`, password: HARNESS_PASSWORD })).refresh_token),
      ),
    );
    const rssSamples = await soak(service, String(meUser.access_token), chains);

    const report = render({ idle, versusBetterAuth, versusOidc, unguarded, bareRoute, clientCredentials, oidcToken, bound, meP99, rssSamples });
    console.log(report);
    mkdirSync('docs', { recursive: true });
    writeFileSync('docs/benchmarks.md', report);
  } finally {
    for (const { process: child } of running) child.kill('SIGTERM');
    await sleep(2000);
    smtp.close();
    for (const name of Object.values(databases)) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

interface Results {
  idle: { service: number; betterAuth: number };
  versusBetterAuth: Array<Record<string, number | string>>;
  versusOidc: Array<Record<string, number | string>>;
  unguarded: Measured;
  bareRoute: Measured;
  clientCredentials: Measured;
  oidcToken: Measured;
  bound: number;
  meP99: { quiet: number; flood: number };
  rssSamples: number[];
}

function render(r: Results): string {
  const cpu = cpus();
  const scenario = (rows: Array<Record<string, number | string>>, name: string) => rows.find((row) => row.scenario === name)!;
  const ratio = (value: number) => `${value.toFixed(2)}×`;
  const verdict = (met: boolean) => (met ? 'met' : '**not met**');
  const ba = (name: string) => scenario(r.versusBetterAuth, name);
  const oidcJwks = scenario(r.versusOidc, 'jwks');
  const warm = r.rssSamples.slice(Math.min(6, r.rssSamples.length - 1));
  const firstMinute = warm.slice(0, 6);
  const lastMinute = warm.slice(-6);
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN;
  const growth = median(lastMinute) - median(firstMinute);
  const login = ba('login');
  const loginRps = Number(login.rps_service);
  const goals: Array<[string, string, string, boolean]> = [
    [
      'JWKS ≥ oidc-provider',
      ratio(Number(oidcJwks.rps_ratio)),
      `${Number(oidcJwks.rps_service).toFixed(0)} vs ${Number(oidcJwks.rps_oidc_provider).toFixed(0)} req/s`,
      Number(oidcJwks.rps_ratio) >= 1,
    ],
    [
      '/auth/me, one token repeated ≥ 2× Better Auth',
      ratio(Number(ba('me').rps_ratio)),
      `${Number(ba('me').rps_service).toFixed(0)} vs ${Number(ba('me').rps_better_auth).toFixed(0)} req/s`,
      Number(ba('me').rps_ratio) >= 2,
    ],
    [
      '/auth/me, 1 in 10 a bad signature (`me_cold`) ≥ 2× Better Auth',
      ratio(Number(ba('me_cold').rps_ratio)),
      `${Number(ba('me_cold').rps_service).toFixed(0)} vs ${Number(ba('me_cold').rps_better_auth).toFixed(0)} req/s`,
      Number(ba('me_cold').rps_ratio) >= 2,
    ],
    [
      'unguarded route ≥ 80 % of bare Fastify',
      `${((r.unguarded.rps / r.bareRoute.rps) * 100).toFixed(0)} %`,
      `${r.unguarded.rps.toFixed(0)} vs ${r.bareRoute.rps.toFixed(0)} req/s`,
      r.unguarded.rps >= 0.8 * r.bareRoute.rps,
    ],
    [
      'refresh ≥ 2× Better Auth re-sign',
      ratio(Number(ba('refresh').rps_ratio)),
      `${Number(ba('refresh').rps_service).toFixed(0)} vs ${Number(ba('refresh').rps_better_auth).toFixed(0)} req/s`,
      Number(ba('refresh').rps_ratio) >= 2,
    ],
    [
      'client credentials ≥ oidc-provider',
      ratio(r.clientCredentials.rps / r.oidcToken.rps),
      `${r.clientCredentials.rps.toFixed(0)} vs ${r.oidcToken.rps.toFixed(0)} req/s`,
      r.clientCredentials.rps >= r.oidcToken.rps,
    ],
    [
      'idle RSS ≤ Better Auth + 25 %',
      `${r.idle.service.toFixed(0)} MiB`,
      `Better Auth ${r.idle.betterAuth.toFixed(0)} MiB (limit ${(r.idle.betterAuth * 1.25).toFixed(0)})`,
      r.idle.service <= 1.25 * r.idle.betterAuth,
    ],
    [
      `RSS flat over ${SOAK_SECONDS} s of mixed load`,
      `${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MiB`,
      `median of the first warm minute ${median(firstMinute).toFixed(0)} MiB, of the last ${median(lastMinute).toFixed(0)} MiB, peak ${Math.max(...r.rssSamples).toFixed(0)} MiB`,
      growth <= 5,
    ],
    [
      'login ≥ 80 % of the argon2id bound',
      `${((loginRps / r.bound) * 100).toFixed(0)} %`,
      `${loginRps.toFixed(0)} logins/s vs ${r.bound.toFixed(0)} verifications/s`,
      loginRps >= 0.8 * r.bound,
    ],
    [
      '/auth/me p99 during a login flood ≤ 3× quiet',
      ratio(r.meP99.flood / r.meP99.quiet),
      `${r.meP99.flood} ms vs ${r.meP99.quiet} ms at 1,000 req/s`,
      r.meP99.flood <= 3 * r.meP99.quiet,
    ],
  ];
  const table = (rows: Array<Record<string, number | string>>, peer: string) => [
    `| scenario | service req/s | ${peer} req/s | ratio | p99 ratio |`,
    '|---|---:|---:|---:|---:|',
    ...rows.map(
      (row) =>
        `| ${row.scenario} | ${Number(row.rps_service).toFixed(0)} | ${Number(row[`rps_${peer}`]).toFixed(0)} | ${ratio(Number(row.rps_ratio))} | ${Number(row.p99_ratio).toFixed(2)} |`,
    ),
  ];
  return [
    '# Benchmarks against the peers',
    '',
    `Produced by \`npm run bench:peers\` on ${new Date().toISOString().slice(0, 10)}: ${cpu.length} × ${cpu[0]?.model.trim()}, Node ${process.version}, PostgreSQL ` +
      `on the same machine. The service runs as \`npm start\` runs it (NODE_ENV=production, request log at info written to a file); the peers as their READMEs say; ` +
      `the load generator (autocannon, ${CONNECTIONS} connections, ${LOGIN_CONNECTIONS} for logins) shares the machine. Every figure is a mean of ${ROUNDS} ` +
      `alternating runs of ${DURATION} s per side (A, B, A, B); absolute figures move between runs on a shared machine, ratios much less.`,
    '',
    '## Goals',
    '',
    '| goal | figure | measured | |',
    '|---|---:|---|---|',
    ...goals.map(([goal, figure, measured, met]) => `| ${goal} | ${figure} | ${measured} | ${verdict(met)} |`),
    '',
    '## Against Better Auth (its harness, `compare.sh`)',
    '',
    ...table(r.versusBetterAuth, 'better_auth'),
    '',
    'Better Auth verifies `/auth/me` with jose against its JWKS in process (EdDSA) and its refresh re-signs a JWT for the same',
    'session token without rotating; the service rotates, detects reuse and signs RS256. Its login hashes with scrypt (N=16384, r=16).',
    '',
    '## Against oidc-provider',
    '',
    ...table(r.versusOidc, 'oidc_provider'),
    '',
    `Client credentials (\`POST /oauth/token\`, client_secret_basic, RS256 JWT): service ${r.clientCredentials.rps.toFixed(0)} req/s (p99 ${r.clientCredentials.p99.toFixed(1)} ms), ` +
      `oidc-provider ${r.oidcToken.rps.toFixed(0)} req/s (p99 ${r.oidcToken.p99.toFixed(1)} ms).`,
    '',
    '## The framework ceiling',
    '',
    `\`GET /health/live\` (every security header, request id, metrics): ${r.unguarded.rps.toFixed(0)} req/s; the same route on bare Fastify: ${r.bareRoute.rps.toFixed(0)} req/s.`,
    '',
    '## Memory',
    '',
    `RSS at idle after start: service ${r.idle.service.toFixed(0)} MiB, Better Auth ${r.idle.betterAuth.toFixed(0)} MiB. During ${SOAK_SECONDS} s of mixed load ` +
      `(/auth/me 2,000/s, JWKS 500/s, refresh 100/s, ${LOGIN_CONNECTIONS} connections logging in), every 10 s: ${r.rssSamples.map((x) => x.toFixed(0)).join(', ')} MiB.`,
    '',
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
