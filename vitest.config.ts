import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // esbuild drops decorator metadata, which Nest's DI, class-validator and TypeORM read at run time.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: ['{src,test,packages}/**/*.spec.ts', '{test,packages}/**/*.e2e-spec.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    globalSetup: ['test/support/global-setup.ts'],
    // One database serves the whole run; files take turns and each starts from empty tables.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
