import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type autocannon from 'autocannon';

/** A port free on loopback right now, for a process the benchmark starts. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls `url` until it answers 200; gives up after a minute or when `child` has exited. */
export async function waitUntilAnswering(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (
    (await fetch(url).then(
      (res) => res.status,
      () => 0,
    )) !== 200
  ) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${url} did not answer`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * POST /auth/refresh spending a fresh token every time. autocannon gives each request a new
 * context, so the rotation chains live in `pool`: a request takes one, its response puts the
 * successor back.
 */
export function refreshChainRequest(pool: string[]): autocannon.Request {
  return {
    method: 'POST',
    path: '/auth/refresh',
    headers: { 'content-type': 'application/json' },
    setupRequest: (request) => ({ ...request, body: JSON.stringify({ refresh_token: pool.shift() }) }),
    onResponse: (status, body) => {
      if (status === 200) pool.push((JSON.parse(body) as { refresh_token: string }).refresh_token);
    },
  };
}
