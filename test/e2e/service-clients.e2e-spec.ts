import { createHash, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { assertionKeyPair, createClient, type CreatedClient } from '../support/oauth.js';
import { waitFor } from '../support/service-process.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { bearer, createUser, login, type TokenPair } from '../support/users.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest();
/** For keys the admin routes must refuse (private halves, short moduli). */
const rsaKeyPair = (modulusLength = 2048) => generateKeyPairSync('rsa', { modulusLength });
const basic = (id: string, secret: string): [string, string] => ['authorization', `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`];

/** client_credentials with client_secret_basic; the standard clients drive it in standard-clients.e2e-spec.ts. */
async function clientToken(t: TestApp, c: { client_id: string; client_secret?: string }, secret = c.client_secret!): Promise<string> {
  const res = await t
    .http()
    .post('/oauth/token')
    .set(...basic(c.client_id, secret))
    .type('form')
    .send({ grant_type: 'client_credentials' });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.access_token as string;
}

describe('service clients: the admin routes', () => {
  let t: TestApp;
  let admin: TokenPair;
  let user: TokenPair;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp();
    await createUser(t, 'admin@example.com', ['user', 'admin']);
    await createUser(t, 'ann@example.com');
    admin = await login(t, 'admin@example.com');
    user = await login(t, 'ann@example.com');
  });
  afterAll(() => t.close());

  const asAdmin = () => ({
    post: (path: string, body: object) =>
      t
        .http()
        .post(path)
        .set(...bearer(admin.access_token))
        .send(body),
    patch: (path: string, body: object) =>
      t
        .http()
        .patch(path)
        .set(...bearer(admin.access_token))
        .send(body),
    get: (path: string) =>
      t
        .http()
        .get(path)
        .set(...bearer(admin.access_token)),
    delete: (path: string) =>
      t
        .http()
        .delete(path)
        .set(...bearer(admin.access_token)),
  });
  const introspect = async (token: string) =>
    (
      await t
        .http()
        .post('/auth/introspect')
        .set(...bearer(admin.access_token))
        .type('form')
        .send({ token })
        .expect(200)
    ).body as { active: boolean };
  const me = (token: string) =>
    t
      .http()
      .get('/auth/me')
      .set(...bearer(token));

  describe('POST /admin/clients', () => {
    it('creates a client_secret_basic client: a 256-bit URL-safe secret shown once, only its SHA-256 stored, the creation audited', async () => {
      const res = await asAdmin()
        .post('/admin/clients', { name: 'orders', scopes: ['orders:read'], auth_method: 'client_secret_basic' })
        .expect(201);

      expect(res.body).toMatchObject({
        id: expect.any(String),
        client_id: res.body.id,
        name: 'orders',
        scopes: ['orders:read'],
        roles: [],
        auth_method: 'client_secret_basic',
        disabled: false,
        created_at: expect.any(String),
      });
      expect(res.body.client_secret).toMatch(/^[A-Za-z0-9_-]{43,}$/);
      const [row] = await t.dataSource.query('SELECT * FROM service_clients WHERE id = $1', [res.body.id]);
      expect(row.secret_hash).toEqual(sha256(res.body.client_secret));
      expect(JSON.stringify(row)).not.toContain(res.body.client_secret);
      const listed = (await asAdmin().get('/admin/clients').expect(200)).body.items.find((item: { id: string }) => item.id === res.body.id);
      expect(listed).toMatchObject({ client_id: res.body.id, name: 'orders' });
      expect(listed).not.toHaveProperty('client_secret');
      const audit = (await asAdmin().get('/admin/audit?type=client_created').expect(200)).body.items;
      expect(audit[0].details).toEqual({ client_id: res.body.id, auth_method: 'client_secret_basic', by: expect.any(String) });
    });

    it('creates a private_key_jwt client with public keys only, and no secret', async () => {
      const { publicJwk } = await assertionKeyPair('ES256');

      const res = await asAdmin()
        .post('/admin/clients', { name: 'reports', auth_method: 'private_key_jwt', jwks: { keys: [{ ...publicJwk, extra: 'dropped' }] } })
        .expect(201);

      expect(res.body.client_secret).toBeUndefined();
      expect(res.body.jwks).toEqual({ keys: [publicJwk] });
    });
  });

  describe('bad input: 400 invalid_request and nothing written', () => {
    let existing: CreatedClient;
    let jwtClient: CreatedClient;

    beforeAll(async () => {
      existing = await createClient(t, admin.access_token, { name: 'existing', auth_method: 'client_secret_post' });
      jwtClient = await createClient(t, admin.access_token, {
        name: 'jwt',
        auth_method: 'private_key_jwt',
        jwks_uri: 'https://keys.example/jwks.json',
      });
    });

    const snapshot = async () => ({
      clients: await t.dataSource.query('SELECT * FROM service_clients ORDER BY id'),
      audit: Number((await t.dataSource.query('SELECT count(*) AS n FROM audit_events'))[0].n),
    });

    const rsaPrivate = () => rsaKeyPair().privateKey.export({ format: 'jwk' });

    const cases: Array<[string, () => Promise<{ method: 'post' | 'patch'; path: string; body: object }>]> = [
      ['no name', async () => ({ method: 'post', path: '/admin/clients', body: { auth_method: 'client_secret_basic' } })],
      ['a blank name', async () => ({ method: 'post', path: '/admin/clients', body: { name: '   ', auth_method: 'client_secret_basic' } })],
      [
        'a name of 101 characters',
        async () => ({ method: 'post', path: '/admin/clients', body: { name: 'n'.repeat(101), auth_method: 'client_secret_basic' } }),
      ],
      [
        'a name that is not a string',
        async () => ({ method: 'post', path: '/admin/clients', body: { name: 42, auth_method: 'client_secret_basic' } }),
      ],
      ['no auth_method', async () => ({ method: 'post', path: '/admin/clients', body: { name: 'x' } })],
      ['an unknown auth_method', async () => ({ method: 'post', path: '/admin/clients', body: { name: 'x', auth_method: 'client_secret_jwt' } })],
      ['auth_method none', async () => ({ method: 'post', path: '/admin/clients', body: { name: 'x', auth_method: 'none' } })],
      [
        'scopes that are not a list',
        async () => ({ method: 'post', path: '/admin/clients', body: { name: 'x', auth_method: 'client_secret_basic', scopes: 'a b' } }),
      ],
      [
        'a scope with a space',
        async () => ({ method: 'post', path: '/admin/clients', body: { name: 'x', auth_method: 'client_secret_basic', scopes: ['a b'] } }),
      ],
      [
        'a scope with a quote',
        async () => ({ method: 'post', path: '/admin/clients', body: { name: 'x', auth_method: 'client_secret_basic', scopes: ['a"b'] } }),
      ],
      [
        '33 scopes',
        async () => ({
          method: 'post',
          path: '/admin/clients',
          body: { name: 'x', auth_method: 'client_secret_basic', scopes: Array.from({ length: 33 }, (_, i) => `s${i}`) },
        }),
      ],
      [
        'an upper-case role',
        async () => ({ method: 'post', path: '/admin/clients', body: { name: 'x', auth_method: 'client_secret_basic', roles: ['Admin'] } }),
      ],
      [
        'a client_secret of its own choosing',
        async () => ({ method: 'post', path: '/admin/clients', body: { name: 'x', auth_method: 'client_secret_basic', client_secret: 'mine' } }),
      ],
      [
        'a client_id of its own choosing',
        async () => ({ method: 'post', path: '/admin/clients', body: { name: 'x', auth_method: 'client_secret_basic', client_id: 'mine' } }),
      ],
      [
        'jwks for a secret client',
        async () => ({
          method: 'post',
          path: '/admin/clients',
          body: { name: 'x', auth_method: 'client_secret_basic', jwks: { keys: [(await assertionKeyPair()).publicJwk] } },
        }),
      ],
      ['private_key_jwt without keys', async () => ({ method: 'post', path: '/admin/clients', body: { name: 'x', auth_method: 'private_key_jwt' } })],
      [
        'private_key_jwt with both jwks and jwks_uri',
        async () => ({
          method: 'post',
          path: '/admin/clients',
          body: {
            name: 'x',
            auth_method: 'private_key_jwt',
            jwks: { keys: [(await assertionKeyPair()).publicJwk] },
            jwks_uri: 'https://keys.example/jwks.json',
          },
        }),
      ],
      [
        'a private RSA key in jwks',
        async () => ({ method: 'post', path: '/admin/clients', body: { name: 'x', auth_method: 'private_key_jwt', jwks: { keys: [rsaPrivate()] } } }),
      ],
      [
        'a symmetric key in jwks',
        async () => ({
          method: 'post',
          path: '/admin/clients',
          body: { name: 'x', auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } },
        }),
      ],
      [
        'a 1024-bit RSA key',
        async () => ({
          method: 'post',
          path: '/admin/clients',
          body: { name: 'x', auth_method: 'private_key_jwt', jwks: { keys: [rsaKeyPair(1024).publicKey.export({ format: 'jwk' })] } },
        }),
      ],
      [
        'jwks that is not a key set',
        async () => ({ method: 'post', path: '/admin/clients', body: { name: 'x', auth_method: 'private_key_jwt', jwks: { n: 'x' } } }),
      ],
      [
        'an empty key set',
        async () => ({ method: 'post', path: '/admin/clients', body: { name: 'x', auth_method: 'private_key_jwt', jwks: { keys: [] } } }),
      ],
      [
        'a key that does not parse',
        async () => ({
          method: 'post',
          path: '/admin/clients',
          body: { name: 'x', auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }] } },
        }),
      ],
      [
        'an http jwks_uri off this machine',
        async () => ({
          method: 'post',
          path: '/admin/clients',
          body: { name: 'x', auth_method: 'private_key_jwt', jwks_uri: 'http://keys.example/jwks.json' },
        }),
      ],
      [
        'a jwks_uri with credentials',
        async () => ({
          method: 'post',
          path: '/admin/clients',
          body: { name: 'x', auth_method: 'private_key_jwt', jwks_uri: 'https://user:pw@keys.example/jwks.json' },
        }),
      ],
      [
        'a jwks_uri that is not a URL',
        async () => ({ method: 'post', path: '/admin/clients', body: { name: 'x', auth_method: 'private_key_jwt', jwks_uri: 'keys.example' } }),
      ],
      [
        'a control character in the name',
        async () => ({ method: 'post', path: '/admin/clients', body: { name: 'a\u0000b', auth_method: 'client_secret_basic' } }),
      ],
      ['PATCH: disabled that is not a boolean', async () => ({ method: 'patch', path: `/admin/clients/${existing.id}`, body: { disabled: 'yes' } })],
      [
        'PATCH: a new auth_method',
        async () => ({ method: 'patch', path: `/admin/clients/${existing.id}`, body: { auth_method: 'private_key_jwt' } }),
      ],
      [
        'PATCH: jwks for a secret client',
        async () => ({ method: 'patch', path: `/admin/clients/${existing.id}`, body: { jwks: { keys: [(await assertionKeyPair()).publicJwk] } } }),
      ],
      [
        'PATCH: a private key for a private_key_jwt client',
        async () => ({ method: 'patch', path: `/admin/clients/${jwtClient.id}`, body: { jwks: { keys: [rsaPrivate()] } } }),
      ],
      ['PATCH: a malformed id', async () => ({ method: 'patch', path: '/admin/clients/not-a-uuid', body: { name: 'y' } })],
      [
        'secret: a negative previous_secret_ttl',
        async () => ({ method: 'post', path: `/admin/clients/${existing.id}/secret`, body: { previous_secret_ttl: -1 } }),
      ],
      [
        'secret: previous_secret_ttl as text',
        async () => ({ method: 'post', path: `/admin/clients/${existing.id}/secret`, body: { previous_secret_ttl: '60' } }),
      ],
      [
        'secret: previous_secret_ttl over 30 days',
        async () => ({ method: 'post', path: `/admin/clients/${existing.id}/secret`, body: { previous_secret_ttl: 2_592_001 } }),
      ],
      ['secret: a malformed id', async () => ({ method: 'post', path: '/admin/clients/123/secret', body: {} })],
    ];

    it.each(cases)('%s', async (_name, build) => {
      const { method, path, body } = await build();
      const before = await snapshot();

      const res = await asAdmin()[method](path, body);

      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'invalid_request', message: expect.any(String) });
      expect(res.body.message).not.toMatch(/BEGIN|"d":/);
      expect(await snapshot()).toEqual(before);
    });

    it('unknown ids are 404 not_found, a private_key_jwt client has no secret to rotate (409), and nothing is written', async () => {
      const before = await snapshot();
      const unknown = '7d1c3c2e-0000-4000-8000-000000000000';

      expect((await asAdmin().patch(`/admin/clients/${unknown}`, { name: 'y' })).body.error).toBe('not_found');
      expect((await asAdmin().post(`/admin/clients/${unknown}/secret`, {})).status).toBe(404);
      expect((await asAdmin().delete(`/admin/clients/${unknown}`)).status).toBe(404);
      expect((await asAdmin().delete('/admin/clients/nope')).status).toBe(400);
      const conflict = await asAdmin().post(`/admin/clients/${jwtClient.id}/secret`, {});
      expect([conflict.status, conflict.body.error]).toEqual([409, 'conflict']);
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('access', () => {
    it('needs an admin: 401 without a token, 403 for a user, 403 for a service client token (even one with the admin role)', async () => {
      const powerful = await createClient(t, admin.access_token, { name: 'powerful', roles: ['admin'], auth_method: 'client_secret_basic' });
      const serviceToken = await clientToken(t, powerful);

      expect((await t.http().get('/admin/clients')).status).toBe(401);
      expect(
        (
          await t
            .http()
            .get('/admin/clients')
            .set(...bearer(user.access_token))
        ).status,
      ).toBe(403);
      const asService = await t
        .http()
        .get('/admin/clients')
        .set(...bearer(serviceToken));
      expect([asService.status, asService.body.error]).toEqual([403, 'insufficient_role']);
      expect(
        (
          await t
            .http()
            .get('/admin/users')
            .set(...bearer(serviceToken))
        ).status,
      ).toBe(403);
    });

    it('pages the list by a cursor, oldest first, without deleted clients', async () => {
      const created = [];
      for (const name of ['page-a', 'page-b', 'page-c'])
        created.push(await createClient(t, admin.access_token, { name, auth_method: 'client_secret_basic' }));
      await asAdmin().delete(`/admin/clients/${created[1]!.id}`).expect(204);

      const names: string[] = [];
      let cursor: string | null = null;
      do {
        const page = (
          await asAdmin()
            .get(`/admin/clients?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
            .expect(200)
        ).body as { items: Array<{ name: string }>; next_cursor: string | null };
        expect(page.items.length).toBeLessThanOrEqual(2);
        names.push(...page.items.map((item) => item.name));
        cursor = page.next_cursor;
      } while (cursor !== null);

      expect(names).toContain('page-a');
      expect(names).toContain('page-c');
      expect(names).not.toContain('page-b');
      expect(names.indexOf('page-a')).toBeLessThan(names.indexOf('page-c'));
      expect((await asAdmin().get('/admin/clients?cursor=bm9wZQ')).status).toBe(400);
    });
  });

  describe('disabling, deleting and changing a client refuse its live tokens at once', () => {
    let c: CreatedClient;

    beforeEach(async () => {
      c = await createClient(t, admin.access_token, { name: 'victim', scopes: ['a', 'b'], auth_method: 'client_secret_basic' });
    });

    it('disabled: its live token refused by the guard and introspection, no new token; enabled again: the old token stays refused', async () => {
      const live = await clientToken(t, c);
      await me(live).expect(200);

      await asAdmin().patch(`/admin/clients/${c.id}`, { disabled: true }).expect(200);

      await me(live).expect(401);
      expect((await introspect(live)).active).toBe(false);
      const refused = await t
        .http()
        .post('/oauth/token')
        .set(...basic(c.client_id, c.client_secret!))
        .type('form')
        .send({ grant_type: 'client_credentials' });
      expect([refused.status, refused.body.error]).toEqual([401, 'invalid_client']);

      await asAdmin().patch(`/admin/clients/${c.id}`, { disabled: false }).expect(200);
      await me(live).expect(401);
      await me(await clientToken(t, c)).expect(200);
      const types = (await asAdmin().get('/admin/audit?limit=5').expect(200)).body.items.map((event: { type: string }) => event.type);
      expect(types).toEqual(expect.arrayContaining(['client_disabled', 'client_enabled']));
    });

    it('deleted: its live token refused, it cannot authenticate, it is gone from the list, and its id is not reused', async () => {
      const live = await clientToken(t, c);

      await asAdmin().delete(`/admin/clients/${c.id}`).expect(204);

      await me(live).expect(401);
      expect((await introspect(live)).active).toBe(false);
      expect(
        (
          await t
            .http()
            .post('/oauth/token')
            .set(...basic(c.client_id, c.client_secret!))
            .type('form')
            .send({ grant_type: 'client_credentials' })
        ).status,
      ).toBe(401);
      expect((await asAdmin().get('/admin/clients?limit=100')).body.items.map((item: { id: string }) => item.id)).not.toContain(c.id);
      expect((await asAdmin().patch(`/admin/clients/${c.id}`, { disabled: false })).status).toBe(404);
      const [row] = await t.dataSource.query('SELECT secret_hash, deleted_at FROM service_clients WHERE id = $1', [c.id]);
      expect(row).toEqual({ secret_hash: null, deleted_at: expect.any(Date) });
    });

    it('new scopes or roles void the live tokens (they say what the client was); a new name does not', async () => {
      const before = await clientToken(t, c);
      await asAdmin().patch(`/admin/clients/${c.id}`, { name: 'renamed' }).expect(200);
      await me(before).expect(200);

      const res = await asAdmin()
        .patch(`/admin/clients/${c.id}`, { scopes: ['a'], roles: ['reader'] })
        .expect(200);

      expect(res.body).toMatchObject({ name: 'renamed', scopes: ['a'], roles: ['reader'] });
      await me(before).expect(401);
      expect((await me(await clientToken(t, c)).expect(200)).body).toMatchObject({ roles: ['reader'], scope: 'a' });
    });
  });
});

describe('service clients: INTROSPECTION_CLIENTS as a bootstrap', () => {
  const SECRET = 'search-secret-0123456789abcdef-0123456789';
  const env = (secret = SECRET) => ({ INTROSPECTION_CLIENTS: `search:${sha256(secret).toString('hex')}` });

  beforeAll(() => resetDatabase());

  it('replicas starting together create the client once; it introspects with HTTP Basic as before', async () => {
    const apps = await Promise.all([startTestApp(env()), startTestApp(env())]);
    try {
      const rows = await apps[0]!.dataSource.query(`SELECT client_id, auth_method, secret_hash FROM service_clients WHERE client_id = 'search'`);
      expect(rows).toEqual([{ client_id: 'search', auth_method: 'client_secret_basic', secret_hash: sha256(SECRET) }]);
      const created = await apps[0]!.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE type = 'client_created'`);
      expect(created[0].n).toBe(1);
      for (const t of apps) {
        const res = await t
          .http()
          .post('/auth/introspect')
          .set(...basic('search', SECRET))
          .send({ token: 'garbage' });
        expect([res.status, res.body]).toEqual([200, { active: false }]);
      }
    } finally {
      await Promise.all(apps.map((t) => t.close()));
    }
  });

  it('a restart keeps a secret an admin rotated since; a changed variable replaces it', async () => {
    let t = await startTestApp(env());
    await createUser(t, 'root@example.com', ['user', 'admin']);
    const admin = await login(t, 'root@example.com');
    const [{ id }] = await t.dataSource.query(`SELECT id FROM service_clients WHERE client_id = 'search'`);
    const rotated = (
      await t
        .http()
        .post(`/admin/clients/${id}/secret`)
        .set(...bearer(admin.access_token))
        .send({ previous_secret_ttl: 0 })
        .expect(200)
    ).body.client_secret as string;
    await t.close();

    t = await startTestApp(env());
    expect(
      (
        await t
          .http()
          .post('/auth/introspect')
          .set(...basic('search', rotated))
          .send({ token: 'x' })
      ).status,
    ).toBe(200);
    expect(
      (
        await t
          .http()
          .post('/auth/introspect')
          .set(...basic('search', SECRET))
          .send({ token: 'x' })
      ).status,
    ).toBe(401);
    await t.close();

    const replaced = 'a-new-secret-from-the-variable-0123456789';
    t = await startTestApp(env(replaced));
    try {
      expect(
        (
          await t
            .http()
            .post('/auth/introspect')
            .set(...basic('search', replaced))
            .send({ token: 'x' })
        ).status,
      ).toBe(200);
      expect(
        (
          await t
            .http()
            .post('/auth/introspect')
            .set(...basic('search', rotated))
            .send({ token: 'x' })
        ).status,
      ).toBe(401);
    } finally {
      await t.close();
    }
  });
});

describe('service clients: a change on replica A refused on replica B', () => {
  let a: TestApp;
  let b: TestApp;
  let admin: TokenPair;

  beforeAll(async () => {
    await resetDatabase();
    a = await startTestApp();
    // On the embedded database B hears of revocations by its resync, not NOTIFY: every second here.
    b = await startTestApp({ REVOCATION_RESYNC_INTERVAL: '1' });
    await createUser(a, 'admin@example.com', ['user', 'admin']);
    admin = await login(a, 'admin@example.com');
  });
  afterAll(() => Promise.all([a.close(), b.close()]));

  it.each([
    [
      'disabling',
      (id: string) =>
        a
          .http()
          .patch(`/admin/clients/${id}`)
          .set(...bearer(admin.access_token))
          .send({ disabled: true })
          .expect(200),
    ],
    [
      'deleting',
      (id: string) =>
        a
          .http()
          .delete(`/admin/clients/${id}`)
          .set(...bearer(admin.access_token))
          .expect(204),
    ],
  ])('%s on A: B refuses the live token (guard and feed), and introspection on B at once', async (_name, change) => {
    const c = await createClient(a, admin.access_token, { name: 'replicated', auth_method: 'client_secret_basic' });
    const feedReader = await createClient(a, admin.access_token, { name: 'feed', auth_method: 'client_secret_basic' });
    const token = await clientToken(b, c);
    await b
      .http()
      .get('/auth/me')
      .set(...bearer(token))
      .expect(200);

    await change(c.id);

    const introspection = await b
      .http()
      .post('/auth/introspect')
      .set(...basic(feedReader.client_id, feedReader.client_secret!))
      .type('form')
      .send({ token });
    expect(introspection.body).toEqual({ active: false });
    await waitFor(
      async () =>
        (
          await b
            .http()
            .get('/auth/me')
            .set(...bearer(token))
        ).status === 401,
      'B to refuse the token',
      10_000,
    );
    const feed = await b
      .http()
      .get('/.well-known/revocations')
      .set(...basic(feedReader.client_id, feedReader.client_secret!))
      .expect(200);
    expect(feed.body.generations[c.client_id]).toBeGreaterThan(0);
  });
});
