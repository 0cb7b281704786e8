import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../../../test/support/service-process.js';
import { resetDatabase, startTestApp, type TestApp } from '../../../test/support/test-app.js';
import { createUser, login } from '../../../test/support/users.js';

const run = promisify(execFile);
const KIT_DIR = resolve('packages/verifier');

/** What another team writes: a Nest app whose every route needs an auth-service token. */
const CONSUMER = `import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AccessToken, Public, VerifierModule } from '@auth-service/verifier/nest';
import { createVerifier, requireAccessToken, type VerifiedToken } from '@auth-service/verifier';

@Controller()
class OrdersController {
  @Get('orders')
  list(@AccessToken() token: VerifiedToken): { owner: string } {
    return { owner: token.sub };
  }

  @Public()
  @Get('healthz')
  health(): { status: string } {
    return { status: 'ok' };
  }
}

@Module({
  imports: [VerifierModule.forRoot({ issuer: process.env.ISSUER!, audience: 'auth-service', jwksUri: process.env.JWKS_URI! })],
  controllers: [OrdersController],
})
class AppModule {}

// The Express entry point type-checks too.
void requireAccessToken(createVerifier({ issuer: 'https://auth.example.com', audience: 'auth-service', jwksUri: 'https://auth.example.com/.well-known/jwks.json' }));

const app = await NestFactory.create(AppModule, { logger: false });
await app.listen(0, '127.0.0.1');
console.log(\`listening \${(app.getHttpServer().address() as { port: number }).port}\`);
`;

/** A CommonJS project on TypeScript's older "node" resolution, which ignores package "exports". */
const NODE10_CONSUMER = `import type { VerifierModule } from '@auth-service/verifier/nest';
import type { Verifier } from '@auth-service/verifier';
export type Check = [typeof VerifierModule, Verifier];
`;

const tsconfig = (module: string, moduleResolution: string, file: string) =>
  JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module,
      moduleResolution,
      strict: true,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      skipLibCheck: true,
      outDir: 'dist',
      types: file === 'main.ts' ? ['node'] : [],
      ignoreDeprecations: '6.0',
    },
    include: [file],
  });

/**
 * The kit as another team gets it: `npm pack` (its prepack builds it), installed from the tarball
 * into fresh projects on each Nest major the peer range names, type-checked under both of
 * TypeScript's resolution modes, and run against this service.
 */
// Packing and installing do not depend on the database: once, on the server run, is enough.
describe.skipIf(inject('databaseKind') === 'embedded')('@auth-service/verifier from a packed tarball', () => {
  let t: TestApp;
  let tarball: string;
  let packDir: string;
  const projects: string[] = [];

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp();
    packDir = mkdtempSync(join(tmpdir(), 'verifier-pack-'));
    rmSync(join(KIT_DIR, 'dist'), { recursive: true, force: true });
    await run('npm', ['pack', '--pack-destination', packDir], { cwd: KIT_DIR });
    tarball = join(
      packDir,
      readdirSync(packDir).find((file) => file.endsWith('.tgz'))!,
    );
  }, 120_000);
  afterAll(async () => {
    await t.close();
    for (const dir of [packDir, ...projects]) rmSync(dir, { recursive: true, force: true });
  });

  it('ships the compiled code with its type declarations', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    expect(stdout.split('\n')).toEqual(
      expect.arrayContaining(['package/dist/index.js', 'package/dist/index.d.ts', 'package/dist/nest.js', 'package/dist/nest.d.ts']),
    );
  });

  it.each(['11', '12'])(
    'installs into a fresh Nest %s project, type-checks under nodenext and node10 resolution, and guards its routes',
    async (major) => {
      const dir = mkdtempSync(join(tmpdir(), `verifier-nest${major}-`));
      projects.push(dir);
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-nest${major}`, private: true, type: 'module' }));
      writeFileSync(join(dir, 'main.ts'), CONSUMER);
      await run(
        'npm',
        [
          'install',
          '--no-audit',
          '--no-fund',
          tarball,
          `@nestjs/common@^${major}`,
          `@nestjs/core@^${major}`,
          `@nestjs/platform-express@^${major}`,
          'reflect-metadata',
          'rxjs',
          'typescript@~6.0',
          '@types/node@^20',
        ],
        { cwd: dir },
      );

      writeFileSync(join(dir, 'node10.ts'), NODE10_CONSUMER);
      writeFileSync(join(dir, 'tsconfig.node10.json'), tsconfig('commonjs', 'node10', 'node10.ts'));
      await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.node10.json', '--noEmit'], { cwd: dir }).catch(
        (error: { stdout: string }) => {
          throw new Error(`node10 resolution failed:\n${error.stdout}`);
        },
      );
      writeFileSync(join(dir, 'tsconfig.json'), tsconfig('nodenext', 'nodenext', 'main.ts'));
      await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { cwd: dir }).catch((error: { stdout: string }) => {
        throw new Error(`nodenext resolution failed:\n${error.stdout}`);
      });

      const base = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
      const child = spawn(process.execPath, ['dist/main.js'], {
        cwd: dir,
        env: { ISSUER: 'http://auth.test', JWKS_URI: `${base}/.well-known/jwks.json`, PATH: process.env.PATH ?? '' },
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      try {
        await waitFor(() => /listening \d+/.test(output), `the Nest ${major} consumer to listen; it wrote:\n${output}`, 60_000);
        const port = /listening (\d+)/.exec(output)![1];
        const email = `nest${major}@example.com`;
        await createUser(t, email);
        const { access_token } = await login(t, email);

        expect((await fetch(`http://127.0.0.1:${port}/orders`)).status).toBe(401);
        const res = await fetch(`http://127.0.0.1:${port}/orders`, { headers: { authorization: `Bearer ${access_token}` } });
        expect(res.status).toBe(200);
        expect(((await res.json()) as { owner: string }).owner).toMatch(/^[0-9a-f-]{36}$/);
        expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      } finally {
        child.kill();
      }
    },
    300_000,
  );
});
