import { Algorithm, hash } from '@node-rs/argon2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';

const PASSWORD = 'correct horse battery staple';

describe('POST /auth/register', () => {
  let t: TestApp;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp();
  });
  afterAll(() => t.close());
  beforeEach(() => t.dataSource.query('TRUNCATE users CASCADE'));

  const userCount = async (): Promise<number> => Number((await t.dataSource.query('SELECT count(*)::int AS n FROM users'))[0].n);

  it('creates a user with the default role and returns no password material', async () => {
    const res = await t.http().post('/auth/register').send({ email: 'alice@example.com', password: PASSWORD });

    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), email: 'alice@example.com', roles: ['user'] });
    const [row] = await t.dataSource.query('SELECT email, password_hash FROM users');
    expect(row.email).toBe('alice@example.com');
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(JSON.stringify(res.body)).not.toContain('argon2');
  });

  it('stores the email trimmed and lower-cased', async () => {
    const res = await t.http().post('/auth/register').send({ email: '  Alice@Example.COM ', password: PASSWORD });

    expect(res.status).toBe(201);
    expect(res.body.email).toBe('alice@example.com');
  });

  it('refuses the same email in another case with 409 conflict and writes nothing', async () => {
    await t.http().post('/auth/register').send({ email: 'alice@example.com', password: PASSWORD }).expect(201);

    const res = await t.http().post('/auth/register').send({ email: 'ALICE@example.com', password: 'another password' });

    expect(res.status).toBe(409);
    expect(res.body).toEqual({ statusCode: 409, error: 'conflict', message: expect.any(String) });
    expect(await userCount()).toBe(1);
  });

  it('lets exactly one of two concurrent registrations of one email succeed', async () => {
    const results = await Promise.all(
      ['bob@example.com', 'BOB@example.com'].map((email) => t.http().post('/auth/register').send({ email, password: PASSWORD })),
    );

    expect(results.map((res) => res.status).sort()).toEqual([201, 409]);
    expect(await userCount()).toBe(1);
  });

  it('keeps a look-alike Unicode address distinct from the ASCII one', async () => {
    await t.http().post('/auth/register').send({ email: 'paypal@example.com', password: PASSWORD }).expect(201);

    // Cyrillic "а" (U+0430) in place of the first Latin "a".
    const res = await t.http().post('/auth/register').send({ email: 'p\u0430ypal@example.com', password: PASSWORD });

    expect(res.status).toBe(201);
    expect(await userCount()).toBe(2);
  });

  describe('one canonical email per mailbox', () => {
    it('treats final sigma as sigma: ΟΔΟΣ@ and οδος@ are one account', async () => {
      const res = await t.http().post('/auth/register').send({ email: 'ΟΔΟΣ@example.com', password: PASSWORD });
      expect(res.status).toBe(201);
      expect(res.body.email).toBe('οδοσ@example.com');

      for (const email of ['οδος@example.com', 'οδοσ@example.com']) {
        const again = await t.http().post('/auth/register').send({ email, password: PASSWORD });
        expect(again.status).toBe(409);
      }
      expect(await userCount()).toBe(1);
      await t.http().post('/auth/login').send({ email: 'οδος@example.com', password: PASSWORD }).expect(200);
    });

    it('stores a Unicode domain in A-labels: …@bücher.test and …@xn--bcher-kva.test are one account', async () => {
      const res = await t.http().post('/auth/register').send({ email: 'ann@Bücher.test', password: PASSWORD });
      expect(res.status).toBe(201);
      expect(res.body.email).toBe('ann@xn--bcher-kva.test');

      const again = await t.http().post('/auth/register').send({ email: 'ann@xn--bcher-kva.test', password: PASSWORD });
      expect(again.status).toBe(409);
      expect(await userCount()).toBe(1);
      await t.http().post('/auth/login').send({ email: 'ann@xn--bcher-kva.test', password: PASSWORD }).expect(200);
      await t.http().post('/auth/login').send({ email: 'ANN@bücher.test', password: PASSWORD }).expect(200);
    });
  });

  describe('passwords in NFKC form', () => {
    // "é" precomposed (NFC) and as "e" + combining acute (NFD): one password typed on two keyboards.
    const NFC = 'caf\u00e9 au lait, s\u00e9ance';
    const NFD = NFC.normalize('NFD');

    it('a password registered in NFC logs in when typed in NFD, and the other way round', async () => {
      await t.http().post('/auth/register').send({ email: 'nfc@example.com', password: NFC }).expect(201);
      await t.http().post('/auth/register').send({ email: 'nfd@example.com', password: NFD }).expect(201);

      await t.http().post('/auth/login').send({ email: 'nfc@example.com', password: NFD }).expect(200);
      await t.http().post('/auth/login').send({ email: 'nfd@example.com', password: NFC }).expect(200);
    });

    it('compatibility forms are one password (fullwidth letters, ligatures)', async () => {
      await t.http().post('/auth/register').send({ email: 'wide@example.com', password: 'ｏｆｆｉｃｅ hours 42' }).expect(201);
      await t.http().post('/auth/login').send({ email: 'wide@example.com', password: 'o\ufb03ce hours 42' }).expect(200);
      await t.http().post('/auth/login').send({ email: 'wide@example.com', password: 'office hours 42' }).expect(200);
    });

    it('refuses a common password in its fullwidth form', async () => {
      const res = await t.http().post('/auth/register').send({ email: 'common@example.com', password: 'ｐａｓｓｗｏｒｄ' });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(await userCount()).toBe(0);
    });

    it('a hash of the raw (not NFKC) form still logs in once and is replaced by a hash of the NFKC form', async () => {
      const raw = 'Chapter \u216b: the end'; // ROMAN NUMERAL TWELVE; its NFKC form is "XII"
      const { body } = await t.http().post('/auth/register').send({ email: 'legacy@example.com', password: raw }).expect(201);
      // As stored before passwords were normalised, with the current argon2 parameters.
      const legacyHash = await hash(raw, { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 });
      await t.dataSource.query('UPDATE users SET password_hash = $1 WHERE id = $2', [legacyHash, body.id]);

      await t.http().post('/auth/login').send({ email: 'legacy@example.com', password: raw }).expect(200);

      const [row] = await t.dataSource.query('SELECT password_hash FROM users WHERE id = $1', [body.id]);
      expect(row.password_hash).not.toBe(legacyHash);
      await t.http().post('/auth/login').send({ email: 'legacy@example.com', password: 'Chapter XII: the end' }).expect(200);
    });
  });

  describe('refuses bad input with 400 invalid_request and writes nothing', () => {
    const cases: Array<[string, unknown]> = [
      ['missing email', { password: PASSWORD }],
      ['missing password', { email: 'carol@example.com' }],
      ['empty body object', {}],
      ['email of the wrong type', { email: 42, password: PASSWORD }],
      ['password of the wrong type', { email: 'carol@example.com', password: 12345678 }],
      ['password as an array', { email: 'carol@example.com', password: [PASSWORD] }],
      ['email that is not an address', { email: 'not-an-email', password: PASSWORD }],
      ['email over 254 characters', { email: `${'a'.repeat(250)}@example.com`, password: PASSWORD }],
      ['empty password', { email: 'carol@example.com', password: '' }],
      ['7-character password', { email: 'carol@example.com', password: 'abcdefg' }],
      ['1025-character password', { email: 'carol@example.com', password: 'a'.repeat(1025) }],
      ['extra roles field', { email: 'carol@example.com', password: PASSWORD, roles: ['admin'] }],
      ['extra unknown field', { email: 'carol@example.com', password: PASSWORD, isAdmin: true }],
      ['null body', null],
      ['array body', [{ email: 'carol@example.com', password: PASSWORD }]],
      ['email with a zero-width space', { email: 'carol\u200b@example.com', password: PASSWORD }],
      ['email with a zero-width joiner', { email: 'car\u200dol@example.com', password: PASSWORD }],
      ['email with a soft hyphen', { email: 'car\u00adol@example.com', password: PASSWORD }],
      ['email with a right-to-left override', { email: '\u202ecarol@example.com', password: PASSWORD }],
      ['email with an ideographic space', { email: 'carol\u3000@example.com', password: PASSWORD }],
      ['email with a domain that is no host name', { email: 'carol@xn--zz.test', password: PASSWORD }],
      ['password with a lone high surrogate', { email: 'carol@example.com', password: `${PASSWORD}\ud83d` }],
      ['password with a lone low surrogate', { email: 'carol@example.com', password: `\ude00${PASSWORD}` }],
      ['password with a NUL', { email: 'carol@example.com', password: `${PASSWORD}\u0000` }],
    ];

    it.each(cases)('%s', async (_name, body) => {
      const res = await t.http().post('/auth/register').set('content-type', 'application/json').send(JSON.stringify(body));

      expect(res.status).toBe(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'invalid_request', message: expect.any(String) });
      expect(await userCount()).toBe(0);
    });
  });

  it('accepts a 1024-character password and counts characters, not UTF-16 units', async () => {
    await t
      .http()
      .post('/auth/register')
      .send({ email: 'long@example.com', password: 'a'.repeat(1024) })
      .expect(201);
    // 600 emoji are 600 characters but 1,200 UTF-16 code units.
    await t
      .http()
      .post('/auth/register')
      .send({ email: 'emoji@example.com', password: '🔑'.repeat(600) })
      .expect(201);
  });

  it('refuses malformed JSON with 400 invalid_request', async () => {
    const res = await t.http().post('/auth/register').set('content-type', 'application/json').send('{"email": "dave@example.com", ');

    expect(res.status).toBe(400);
    expect(res.body).toEqual({ statusCode: 400, error: 'invalid_request', message: 'Request body is not valid JSON' });
    expect(await userCount()).toBe(0);
  });

  it('refuses a 2 MB body with 413 payload_too_large before reading it', async () => {
    const body = JSON.stringify({ email: 'erin@example.com', password: 'x'.repeat(2 * 1024 * 1024) });

    const res = await t.http().post('/auth/register').set('content-type', 'application/json').send(body);

    expect(res.status).toBe(413);
    expect(res.body).toEqual({ statusCode: 413, error: 'payload_too_large', message: expect.any(String) });
    expect(await userCount()).toBe(0);
  });

  it('refuses a body that is not JSON with 415', async () => {
    const res = await t.http().post('/auth/register').set('content-type', 'application/xml').send('<user/>');

    expect(res.status).toBe(415);
    expect(res.body.error).toBe('invalid_request');
    expect(await userCount()).toBe(0);
  });

  it('never lets a stack trace, SQL or library text into an error body', async () => {
    const res = await t.http().post('/auth/register').set('content-type', 'application/json').send('{"email":');

    expect(Object.keys(res.body).sort()).toEqual(['error', 'message', 'statusCode']);
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.js|SELECT|INSERT|FST_|SyntaxError/);
  });
});
