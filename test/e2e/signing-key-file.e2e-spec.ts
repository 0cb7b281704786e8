import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicJwkOf } from '../../src/keys/key-material.js';
import { KeysService } from '../../src/keys/keys.service.js';
import { resetDatabase, startTestApp } from '../support/test-app.js';
import { bearer, createUser, login } from '../support/users.js';

async function writeKeyFile(path: string): Promise<string> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeFile(path, privateKey.export({ format: 'pem', type: 'pkcs8' }));
  return calculateJwkThumbprint(publicJwkOf(privateKey));
}

describe('signing keys from a mounted PEM file (SIGNING_KEY_FILE)', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auth-keyfile-'));
    await resetDatabase();
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('signs with the supplied key, publishes a newly mounted one ahead, and leaves rotation to the operator', async () => {
    const keyFile = join(dir, 'signing-key.pem');
    const firstKid = await writeKeyFile(keyFile);
    const first = await startTestApp({ SIGNING_KEY_FILE: keyFile });
    expect(first.app.get(KeysService).signingKey().kid).toBe(firstKid);
    await createUser(first, 'admin@example.com', ['user', 'admin']);
    const admin = await login(first, 'admin@example.com');
    const refused = await first
      .http()
      .post('/admin/keys/rotate')
      .set(...bearer(admin.access_token));
    expect(refused.status).toBe(409);
    await first.close();

    const secondKid = await writeKeyFile(keyFile);
    const second = await startTestApp({ SIGNING_KEY_FILE: keyFile });
    try {
      const states = await second.dataSource.query('SELECT kid, state FROM signing_keys ORDER BY activates_at');
      expect(states).toEqual([
        { kid: firstKid, state: 'active' },
        { kid: secondKid, state: 'next' },
      ]);
    } finally {
      await second.close();
    }
  });

  it('refuses to start with a key file that is not an RSA private key', async () => {
    const badFile = join(dir, 'not-a-key.pem');
    await writeFile(badFile, 'not a key');
    await expect(startTestApp({ SIGNING_KEY_FILE: badFile })).rejects.toThrow();
  });
});
