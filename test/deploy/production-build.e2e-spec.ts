import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, MAIN_JS, waitFor } from '../support/service-process.js';
import { TEST_KEK } from '../support/test-app.js';

/** Development-only packages that must never reach the production image. */
const DEV_ONLY = [
  'typescript',
  '@electric-sql/pglite',
  '@electric-sql/pglite-socket',
  'vitest',
  '@swc/core',
  'autocannon',
  '@nestjs/testing',
  'supertest',
];

const dockerfile = readFileSync('Dockerfile', 'utf8');
/** The image's HEALTHCHECK command, as Docker would run it inside the container. */
const healthcheck = JSON.parse(/HEALTHCHECK [^\n]*\\\n\s*CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];

/**
 * The production image's contents without a Docker engine: the dependencies as the Dockerfile
 * installs them (`npm run prune:production`) and the compiled service, run read-only as a non-root
 * user with production settings.
 */
// The image's contents do not depend on the database: once, on the server run, is enough.
describe.skipIf(inject('databaseKind') === 'embedded')('the production build', () => {
  let dir: string;

  beforeAll(() => {
    if (!existsSync(MAIN_JS)) throw new Error('run "npm run build" before this test');
    dir = mkdtempSync(join(tmpdir(), 'auth-image-'));
    cpSync('package.json', join(dir, 'package.json'));
    cpSync('package-lock.json', join(dir, 'package-lock.json'));
    execFileSync('npm', ['run', 'prune:production'], { cwd: dir, stdio: 'ignore' });
    cpSync('dist', join(dir, 'dist'), { recursive: true });
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds no development-only package', () => {
    const installed = readdirSync(join(dir, 'node_modules'), { recursive: true, encoding: 'utf8' })
      .filter((path) => !path.includes('node_modules'))
      .map((path) =>
        path
          .split('/')
          .slice(0, path.startsWith('@') ? 2 : 1)
          .join('/'),
      );
    for (const name of DEV_ONLY) expect(installed).not.toContain(name);
  });

  it('runs read-only as a non-root user in production mode, and passes its own HEALTHCHECK', async () => {
    chmodSync(dir, 0o755);
    execFileSync('chmod', ['-R', 'a-w', dir]);
    const port = await freePort();
    const env = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      PORT: String(port),
      METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
      DATABASE_URL: inject('databaseUrl'),
      DATABASE_DIRECT_URL: inject('databaseDirectUrl'),
      JWT_ISSUER: 'http://auth.test',
      KEYS_KEK: TEST_KEK,
      // Required in production; nothing is mailed while the check runs.
      SMTP_URL: 'smtp://127.0.0.1:1',
    };
    // As the image's USER: root would ignore the read-only permissions.
    const asNobody =
      process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath] : [process.execPath];
    const child = spawn(asNobody[0]!, [...asNobody.slice(1), 'dist/src/main.js'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const healthy = () => {
        try {
          execFileSync(process.execPath, healthcheck.slice(1), { env: { PORT: String(port) }, stdio: 'ignore' });
          return true;
        } catch {
          return false;
        }
      };
      await waitFor(healthy, 'the HEALTHCHECK to pass', 60_000).catch((error: unknown) => {
        throw new Error(`${String(error)}; the service wrote:\n${output}`);
      });
      expect(output).not.toMatch(/"level":(50|60)/);
    } finally {
      child.kill('SIGTERM');
      execFileSync('chmod', ['-R', 'u+w', dir]);
    }
  }, 90_000);
});
