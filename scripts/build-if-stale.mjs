// Compiles the service only when a source is newer than the last build, and never deletes dist/:
// `npm start` and the CLIs can run beside a service started from the same checkout. In an image
// (no sources, no TypeScript) there is nothing to do.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const STAMP = 'dist/.build-stamp';
const SOURCES = ['src', 'scripts', 'ormconfig.ts', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((entry) => newestMtime(join(path, entry))));
}

if (existsSync('src') && existsSync('node_modules/typescript')) {
  const built = existsSync(STAMP) ? statSync(STAMP).mtimeMs : 0;
  if (Math.max(...SOURCES.map(newestMtime)) > built) {
    console.error('Compiling (sources changed since the last build)...');
    const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
    if (tsc.status !== 0) process.exit(tsc.status ?? 1);
    writeFileSync(STAMP, new Date().toISOString());
  }
}
