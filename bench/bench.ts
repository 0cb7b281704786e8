import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Algorithm, hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import autocannon from 'autocannon';
import { createVerifier } from '../packages/verifier/src/index.js';
import { freePort, refreshChainRequest, waitUntilAnswering } from './support.js';

/**
 * `npm run bench`: starts the compiled service as its own process (against BENCH_DATABASE_URL, or
 * an embedded database in a temporary folder), makes its own users and sessions, loads each
 * endpoint with autocannon for BENCH_DURATION seconds, measures the crypto and hashing limits of
 * this machine in the same run, prints one table and writes it to docs/endpoint-benchmarks.md.
 * The side-by-side with the peers a user would pick instead is `npm run bench:peers` (peers.ts).
 */

const DURATION_SECONDS = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const PASSWORD = 'benchmark password 0123456789';
const CLIENT_SECRET = randomBytes(24).toString('base64url');

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** What the rate is held against, and the share of it the target asks for. */
  reference?: { name: string; perSecond: number; target: number };
}

/** Operations per second one core sustains for `operation`, timed over `iterations` runs. */
function perSecond(iterations: number, operation: () => void): number {
  for (let i = 0; i < Math.min(100, iterations); i++) operation();
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) operation();
  return iterations / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function measureCryptoLimits(): Promise<{ signPerSecond: number; verifyPerSecond: number; argon2PerSecond: number }> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const input = Buffer.from('x'.repeat(600));
  const signature = sign('sha256', input, privateKey);
  const signPerSecond = perSecond(2000, () => sign('sha256', input, privateKey));
  const verifyPerSecond = perSecond(20000, () => verify('sha256', input, publicKey, signature));
  const options = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 };
  const stored = await argon2Hash(PASSWORD, options);
  const rounds = 40;
  const started = performance.now();
  for (let i = 0; i < rounds; i++) await argon2Verify(stored, PASSWORD);
  return { signPerSecond, verifyPerSecond, argon2PerSecond: rounds / ((performance.now() - started) / 1000) };
}

async function startService(): Promise<{ base: string; stop: () => Promise<void>; database: string }> {
  const port = await freePort();
  const scratch = await mkdtemp(join(tmpdir(), 'auth-bench-'));
  const databaseUrl = process.env.BENCH_DATABASE_URL;
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      JWT_ISSUER: 'http://bench.test',
      KEYS_KEK: randomBytes(32).toString('base64'),
      // The benchmark is one client IP sending far more than any client may.
      RATE_LIMIT_IP_PER_MINUTE: '1000000000',
      INTROSPECTION_CLIENTS: `bench:${createHash('sha256').update(CLIENT_SECRET).digest('hex')}`,
      EMBEDDED_DATABASE_DIR: join(scratch, 'pglite'),
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    },
  });
  const base = `http://127.0.0.1:${port}`;
  await waitUntilAnswering(`${base}/health/ready`, child);
  return {
    base,
    database: databaseUrl ? 'PostgreSQL server (BENCH_DATABASE_URL)' : 'embedded PGlite',
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

async function post(base: string, path: string, body: object): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/** Access tokens from refresh chains run side by side; the sessions' refresh tokens stay usable. */
async function mintAccessTokens(base: string, refreshTokens: string[], count: number): Promise<string[]> {
  const minted: string[] = [];
  await Promise.all(
    refreshTokens.map(async (start, chain) => {
      let refreshToken = start;
      while (minted.length < count) {
        const tokens = await post(base, '/auth/refresh', { refresh_token: refreshToken });
        minted.push(String(tokens.access_token));
        refreshToken = String(tokens.refresh_token);
      }
      refreshTokens[chain] = refreshToken;
    }),
  );
  return minted;
}

/** Each row after 2 s of untimed load, so no row pays for the JIT's first compilations. */
async function load(options: autocannon.Options): Promise<autocannon.Result> {
  await autocannon({ connections: CONNECTIONS, ...options, duration: 2 });
  return autocannon({ connections: CONNECTIONS, duration: DURATION_SECONDS, ...options });
}

function row(name: string, result: autocannon.Result, reference?: Row['reference']): Row {
  return { name, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.non2xx + result.errors, reference };
}

async function main(): Promise<void> {
  const limits = await measureCryptoLimits();
  const service = await startService();
  const { base } = service;
  try {
    const runId = Date.now().toString(36);
    // Three times as many accounts and sessions as connections, so no two requests in flight share one.
    const emails = Array.from({ length: 3 * CONNECTIONS }, (_, i) => `bench-${runId}-${i}@example.com`);
    for (const email of emails) await post(base, '/auth/register', { email, password: PASSWORD });
    const sessions = await Promise.all(emails.map((email) => post(base, '/auth/login', { email, password: PASSWORD })));
    const accessToken = String(sessions[0]!.access_token);
    const bearer = { authorization: `Bearer ${accessToken}` };
    const rows: Row[] = [];
    const healthBaseline = await load({ url: `${base}/health/live` });
    const baselineRps = healthBaseline.requests.average;
    const baseline = { name: '/health/live', perSecond: baselineRps };
    rows.push(row('GET /health/live (unguarded baseline)', healthBaseline));
    rows.push(row('GET /auth/me, one token', await load({ url: `${base}/auth/me`, headers: bearer }), { ...baseline, target: 0.6 }));
    // Beyond the verifier's memory of recent tokens (10,000): every request pays a full RS256 verify.
    const chains = sessions.map((session) => String(session.refresh_token));
    const distinctTokens = await mintAccessTokens(base, chains, 12_000);
    chains.forEach((refreshToken, i) => (sessions[i]!.refresh_token = refreshToken));
    let nextToken = 0;
    const meUncached = await load({
      url: base,
      requests: [
        {
          method: 'GET',
          path: '/auth/me',
          setupRequest: (request) => ({ ...request, headers: { authorization: `Bearer ${distinctTokens[nextToken++ % distinctTokens.length]}` } }),
        },
      ],
    });
    rows.push(row('GET /auth/me, a different token each time', meUncached, { ...baseline, target: 0.6 }));
    rows.push(row('GET /.well-known/jwks.json', await load({ url: `${base}/.well-known/jwks.json` }), { ...baseline, target: 0.9 }));

    const refresh = await load({ url: base, requests: [refreshChainRequest(sessions.map((session) => String(session.refresh_token)))] });
    rows.push(
      row('POST /auth/refresh', refresh, { name: 'RS256 sign bound, 1 core', perSecond: limits.signPerSecond, target: 1000 / limits.signPerSecond }),
    );

    // Each account has at most one login in flight, so the per-account tarpit sees only successes.
    const accountPool = [...emails];
    const login = () =>
      load({
        url: base,
        requests: [
          {
            method: 'POST',
            path: '/auth/login',
            headers: { 'content-type': 'application/json' },
            setupRequest: (request, context: { email?: string }) => {
              context.email = accountPool.shift();
              return { ...request, body: JSON.stringify({ email: context.email, password: PASSWORD }) };
            },
            onResponse: (_status, _body, context: { email?: string }) => {
              if (context.email !== undefined) accountPool.push(context.email);
            },
          },
        ],
      });
    const cores = cpus().length;
    rows.push(
      row('POST /auth/login', await login(), { name: `argon2 bound, ${cores} cores`, perSecond: cores * limits.argon2PerSecond, target: 0.8 }),
    );

    const basic = `Basic ${Buffer.from(`bench:${CLIENT_SECRET}`).toString('base64')}`;
    const introspect = await load({
      url: `${base}/auth/introspect`,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basic },
      body: JSON.stringify({ token: accessToken }),
    });
    rows.push(row('POST /auth/introspect', introspect, { name: 'RS256 verify bound, 1 core', perSecond: limits.verifyPerSecond, target: 0 }));

    // /auth/me while logins saturate the argon2 thread pool.
    const [meDuringBurst] = await Promise.all([load({ url: `${base}/auth/me`, headers: bearer, connections: 2 }), login()]);
    rows.push(row('GET /auth/me during a login burst', meDuringBurst));

    const verifierMicroseconds = await measureVerifier(base, accessToken);
    const report = `${render(rows, limits, service.database)}\nVerifier kit (packages/verifier, jose, keys cached): ${verifierMicroseconds.toFixed(1)} µs per token, in process.\n`;
    console.log(report);
    await mkdir('docs', { recursive: true });
    await writeFile('docs/endpoint-benchmarks.md', report);
  } finally {
    await service.stop();
  }
}

/** The verifier kit's cost per token once its JWKS is cached: what a service pays per request. */
async function measureVerifier(base: string, token: string): Promise<number> {
  const verifier = createVerifier({ issuer: 'http://bench.test', audience: 'auth-service', jwksUri: `${base}/.well-known/jwks.json` });
  try {
    await verifier.ready();
    for (let i = 0; i < 500; i++) await verifier.verify(token);
    const rounds = 5000;
    const started = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) await verifier.verify(token);
    return Number(process.hrtime.bigint() - started) / 1000 / rounds;
  } finally {
    verifier.close();
  }
}

function render(rows: Row[], limits: Awaited<ReturnType<typeof measureCryptoLimits>>, database: string): string {
  const cpu = cpus();
  const lines = [
    '# Benchmarks',
    '',
    `Produced by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpu.length} × ${cpu[0]?.model.trim()}, Node ${process.version}, ${database}.`,
    `The service runs in its own process; autocannon (${CONNECTIONS} connections, ${DURATION_SECONDS} s per row) shares the machine.`,
    '',
    `Limits measured in the same run, one core: RS256 sign ${(1e6 / limits.signPerSecond).toFixed(0)} µs ` +
      `(${limits.signPerSecond.toFixed(0)}/s), RS256 verify ${(1e6 / limits.verifyPerSecond).toFixed(1)} µs ` +
      `(${limits.verifyPerSecond.toFixed(0)}/s), argon2id m=19456 t=2 p=1 verify ${(1000 / limits.argon2PerSecond).toFixed(1)} ms ` +
      `(${limits.argon2PerSecond.toFixed(0)}/s).`,
    '',
    '| endpoint | req/s | p50 ms | p99 ms | non-2xx | reference (req/s) | share of it | target share |',
    '|---|---:|---:|---:|---:|---|---:|---:|',
    ...rows.map((r) => {
      const reference = r.reference;
      const share = reference ? `${((r.rps / reference.perSecond) * 100).toFixed(0)} %` : '-';
      const target = reference?.target ? `${(reference.target * 100).toFixed(0)} %` : '-';
      return `| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.errors} | ${reference ? `${reference.name} (${reference.perSecond.toFixed(0)})` : '-'} | ${share} | ${target} |`;
    }),
    '',
  ];
  return lines.join('\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
