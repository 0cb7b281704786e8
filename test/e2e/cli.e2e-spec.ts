import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { Logger } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { KeyEncryption, kekId } from '../../src/keys/key-encryption.js';
import { totpSecretContext } from '../../src/mfa/totp-secrets.js';
import { resetDatabase, startTestApp, TEST_KEK, type TestApp } from '../support/test-app.js';
import { totp } from '../support/totp.js';
import { bearer, createUser, enrollTotp, login, PASSWORD } from '../support/users.js';

/** The operators' command-line tools, run from the build as in a pod: `node dist/scripts/…`. */
describe('command-line tools', () => {
  let t: TestApp;

  beforeAll(async () => {
    await resetDatabase();
    // The running service: it creates the first signing key under TEST_KEK.
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const run = (script: string, args: string[], env: Record<string, string>, input?: string) =>
    spawnSync(process.execPath, [resolve(`dist/scripts/${script}.js`), ...args], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: inject('databaseUrl'), JWT_ISSUER: 'http://auth.test', ...env },
      input: input ?? '',
      encoding: 'utf8',
      timeout: 60_000,
    });
  const keyCount = async () => (await t.dataSource.query('SELECT count(*)::int AS n FROM signing_keys'))[0].n as number;

  describe('admin:create', () => {
    it('without a terminal and with empty input (kubectl exec without -i), generates a password and prints it once', async () => {
      const result = run('create-admin', ['--email', 'ops@example.com'], {});

      expect(result.status).toBe(0);
      const password = /Password \(shown once\): (\S+)/.exec(result.stdout)?.[1];
      expect(password).toBeDefined();
      await t.http().post('/auth/login').send({ email: 'ops@example.com', password }).expect(200);
    });

    it('takes the password from ADMIN_PASSWORD, or from standard input, and prints none', async () => {
      const fromEnv = run('create-admin', ['--email', 'env@example.com'], { ADMIN_PASSWORD: 'a long admin passphrase' });
      const fromStdin = run('create-admin', ['--email', 'stdin@example.com'], {}, 'another admin passphrase\n');

      expect([fromEnv.status, fromStdin.status]).toEqual([0, 0]);
      expect(fromEnv.stdout + fromStdin.stdout).not.toMatch(/Password/);
      await t.http().post('/auth/login').send({ email: 'env@example.com', password: 'a long admin passphrase' }).expect(200);
      await t.http().post('/auth/login').send({ email: 'stdin@example.com', password: 'another admin passphrase' }).expect(200);
    });

    it('refuses a short password and a missing email with a message, not a stack', () => {
      const short = run('create-admin', ['--email', 'short@example.com'], { ADMIN_PASSWORD: 'short' });
      const usage = run('create-admin', [], {});

      expect(short.status).toBe(1);
      expect(short.stderr.trim()).toBe('the password must be 8 to 1024 characters');
      expect(usage.status).toBe(1);
      expect(usage.stderr).toMatch(/^usage: /);
    });
  });

  describe('keys:rotate', () => {
    it('refuses a KEK that cannot decrypt the stored keys, and a missing one, rotating nothing', async () => {
      const before = await keyCount();

      const wrong = run('rotate-keys', [], { KEYS_KEK: randomBytes(32).toString('base64') });
      const missing = run('rotate-keys', [], { DEV_KEYS_KEK_FILE: `/tmp/kek-${randomBytes(4).toString('hex')}` });

      for (const result of [wrong, missing]) {
        expect(result.status).toBe(1);
        expect(result.stderr).toMatch(
          /^KEYS_KEK: signing key \S+ is encrypted under KEK [0-9a-f]{16}, which KEYS_KEK does not hold; no key was rotated/,
        );
      }
      expect(await keyCount()).toBe(before);
    });

    it('refuses a KEK list whose first KEK is not the one the service encrypts with, though it can decrypt', async () => {
      const before = await keyCount();
      const result = run('rotate-keys', [], { KEYS_KEK: `${randomBytes(32).toString('base64')},${TEST_KEK}` });

      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/use the running service's KEYS_KEK/);
      expect(await keyCount()).toBe(before);
    });

    it("publishes a new key with the service's KEK", async () => {
      const before = await keyCount();
      const result = run('rotate-keys', [], { KEYS_KEK: TEST_KEK });

      expect(result.status).toBe(0);
      expect(await keyCount()).toBe(before + 1);
    });
  });

  // Last: it moves every stored secret to another KEK than the TEST_KEK the tests above use.
  describe('keys:rewrap', () => {
    const newKek = randomBytes(32).toString('base64');
    // Back under TEST_KEK: the files after this one start services that hold only it (see test-app.ts).
    afterAll(async () => {
      await t.dataSource.query('DELETE FROM user_totp');
      const restored = run('rewrap-secrets', [], { KEYS_KEK: `${TEST_KEK},${newKek}` });
      expect(restored.status, restored.stderr).toBe(0);
    });
    const kekIds = async () =>
      ((await t.dataSource.query(`SELECT kek_id FROM signing_keys UNION SELECT kek_id FROM user_totp`)) as Array<{ kek_id: string }>).map(
        (row) => row.kek_id,
      );

    /** A user with a confirmed TOTP secret (sealed under TEST_KEK by the running service), and when its code was used. */
    async function enrolledUser(email: string): Promise<{ secret: string; usedAtMs: number }> {
      await createUser(t, email);
      const usedAtMs = Date.now();
      const { secret } = await enrollTotp(t, (await login(t, email)).access_token, usedAtMs);
      return { secret, usedAtMs };
    }

    it('refuses a KEYS_KEK that lacks a KEK in use, naming the secret, and leaves that secret as it was', async () => {
      await enrolledUser('rewrap-refused@example.com');
      const before = await kekIds();

      const result = run('rewrap-secrets', [], { KEYS_KEK: newKek });

      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(
        /^keys:rewrap stopped: signing key \S+ is encrypted under KEK [0-9a-f]{16}, which KEYS_KEK does not hold: add it to KEYS_KEK and run again/,
      );
      expect(await kekIds()).toEqual(before);
    });

    it('moves the signing keys and TOTP secrets to the first KEK: a service holding only that KEK signs with the same key and takes the same codes', async () => {
      const { secret, usedAtMs } = await enrolledUser('rewrap@example.com');
      const [{ kid: signingKid }] = (await t.dataSource.query(`SELECT kid FROM signing_keys WHERE state = 'active'`)) as [{ kid: string }];

      const result = run('rewrap-secrets', [], { KEYS_KEK: `${newKek},${TEST_KEK}` });
      expect(result.status, result.stderr).toBe(0);
      expect(await kekIds()).toEqual([kekId(Buffer.from(newKek, 'base64'))]);
      const again = run('rewrap-secrets', [], { KEYS_KEK: `${newKek},${TEST_KEK}` });
      expect(again.stdout).toMatch(/user_totp: 0 re-encrypted/);

      const withoutOldKek = await startTestApp({ KEYS_KEK: newKek });
      try {
        await withoutOldKek.http().get('/health/ready').expect(200);
        const first = await withoutOldKek.http().post('/auth/login').send({ email: 'rewrap@example.com', password: PASSWORD }).expect(403);
        const second = await withoutOldKek
          .http()
          .post('/auth/login/mfa')
          .send({ mfa_token: first.body.mfa_token, code: totp(secret, usedAtMs, 1) })
          .expect(200);
        expect(decodeProtectedHeader(second.body.access_token as string).kid).toBe(signingKid);
      } finally {
        await withoutOldKek.close();
      }
    });

    describe('secrets it cannot carry over', () => {
      const newKekId = kekId(Buffer.from(newKek, 'base64'));
      const sealer = (kek: string) => new KeyEncryption([Buffer.from(kek, 'base64')]);
      const userId = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
      /** Users with a TOTP secret sealed directly (confirmed or pending, alternately), as an older replica would have left them. */
      async function sealedUsers(ids: string[], sealedWith: (id: string) => { ciphertext: Buffer; kekId: string }): Promise<void> {
        const sealed = ids.map(sealedWith);
        await t.dataSource.query(`INSERT INTO users (id, email, password_hash) SELECT id, id || '@example.com', 'x' FROM unnest($1::uuid[]) AS id`, [
          ids,
        ]);
        await t.dataSource.query(
          `INSERT INTO user_totp (user_id, secret_ciphertext, kek_id, created_at, confirmed_at)
           SELECT id, ciphertext, kek, now(), CASE WHEN n % 2 = 0 THEN now() END
             FROM unnest($1::uuid[], $2::bytea[], $3::text[]) WITH ORDINALITY AS s(id, ciphertext, kek, n)`,
          [ids, sealed.map((s) => s.ciphertext), sealed.map((s) => s.kekId)],
        );
      }
      const kekOf = async (ids: string[]) =>
        ((await t.dataSource.query('SELECT kek_id FROM user_totp WHERE user_id = ANY($1) ORDER BY user_id', [ids])) as Array<{ kek_id: string }>).map(
          (row) => row.kek_id,
        );
      const resetSecondFactor = async (id: string) => {
        await createUser(t, `rewrap-admin-${id}@example.com`, ['user', 'admin']);
        const { access_token: token } = await login(t, `rewrap-admin-${id}@example.com`);
        await t
          .http()
          .delete(`/admin/users/${id}/mfa`)
          .set(...bearer(token))
          .expect(204);
      };
      afterEach(() => vi.restoreAllMocks());

      it('a batch of 500 at a time: one under a KEK that KEYS_KEK lacks stops it by name, its batch undone, the batches before it kept', async () => {
        const ids = Array.from({ length: 501 }, (_, i) => userId(i + 1));
        const lostKek = randomBytes(32).toString('base64');
        const lost = 'ffffffff-ffff-4fff-8fff-ffffffffffff';
        await sealedUsers(ids, (id) => sealer(TEST_KEK).encrypt(randomBytes(20), totpSecretContext(id)));
        await sealedUsers([lost], (id) => sealer(lostKek).encrypt(randomBytes(20), totpSecretContext(id)));

        const stopped = run('rewrap-secrets', [], { KEYS_KEK: `${newKek},${TEST_KEK}` });

        expect(stopped.status).toBe(1);
        const lostKekId = kekId(Buffer.from(lostKek, 'base64'));
        expect(stopped.stderr.trim()).toBe(
          `keys:rewrap stopped: the TOTP secret of user ${lost} is encrypted under KEK ${lostKekId}, which KEYS_KEK does not hold: add it to KEYS_KEK and run again`,
        );
        const kekIdOfTest = kekId(Buffer.from(TEST_KEK, 'base64'));
        expect(await kekOf(ids)).toEqual([...Array<string>(500).fill(newKekId), kekIdOfTest]);
        expect(await kekOf([lost])).toEqual([lostKekId]);

        // A service started meanwhile says which users could not finish a login.
        const logged = vi.spyOn(Logger.prototype, 'error');
        const service = await startTestApp({ KEYS_KEK: `${newKek},${TEST_KEK}` });
        await service.close();
        expect(logged.mock.calls.map(([message]) => String(message))).toContainEqual(
          expect.stringMatching(new RegExp(`^1 TOTP secret\\(s\\) are encrypted under KEK ${lostKekId}, which KEYS_KEK does not hold`)),
        );

        await resetSecondFactor(lost);
        const resumed = run('rewrap-secrets', [], { KEYS_KEK: `${newKek},${TEST_KEK}` });
        expect(resumed.status, resumed.stderr).toBe(0);
        expect(resumed.stdout).toMatch(/signing_keys: 0 re-encrypted[\s\S]*user_totp: 1 re-encrypted[\s\S]*can be removed from KEYS_KEK/);
        expect(await kekIds()).toEqual([newKekId]);
      });

      it('one that does not decrypt under its own KEK (copied from another user) stops it with the remedy, and is left as it was', async () => {
        const [source, copy] = [userId(1001), userId(1002)];
        const sealed = sealer(TEST_KEK).encrypt(randomBytes(20), totpSecretContext(source));
        await sealedUsers([source, copy], () => sealed);

        const stopped = run('rewrap-secrets', [], { KEYS_KEK: `${newKek},${TEST_KEK}` });

        expect(stopped.status).toBe(1);
        expect(stopped.stderr.trim()).toBe(
          `keys:rewrap stopped: the TOTP secret of user ${copy} does not decrypt under KEK ${kekId(Buffer.from(TEST_KEK, 'base64'))} ` +
            `(damaged, or copied from another row): reset that user's second factor (DELETE /admin/users/${copy}/mfa), then run again`,
        );
        expect(await kekOf([source, copy])).toEqual([kekId(Buffer.from(TEST_KEK, 'base64')), kekId(Buffer.from(TEST_KEK, 'base64'))]);
        await resetSecondFactor(copy);
        expect(run('rewrap-secrets', [], { KEYS_KEK: `${newKek},${TEST_KEK}` }).status).toBe(0);
        expect(await kekIds()).toEqual([newKekId]);
      });
    });
  });
});
