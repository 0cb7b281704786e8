import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CanonicalEmails1795700000001 } from '../../src/database/migrations/1795700000001-CanonicalEmails.js';
import { PasswordHasher } from '../../src/users/password-hasher.service.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { PASSWORD } from '../support/users.js';

/** Data migrations, run against rows written the way older versions wrote them. */
describe('data migrations', () => {
  let t: TestApp;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('CanonicalEmails: accounts stored in the old form can log in by the new one; a collision keeps both rows untouched', async () => {
    const hash = await t.app.get(PasswordHasher).hash(PASSWORD);
    const insert = (email: string) => t.dataSource.query(`INSERT INTO users (email, password_hash) VALUES ($1, $2) RETURNING id`, [email, hash]);
    await insert('οδος@example.com');
    await insert('reader@bücher.test');
    await insert('twice@bücher.test');
    await insert('twice@xn--bcher-kva.test');

    const runner = t.dataSource.createQueryRunner();
    try {
      await new CanonicalEmails1795700000001().up(runner);
    } finally {
      await runner.release();
    }

    const emails = (await t.dataSource.query(`SELECT email FROM users ORDER BY email`)).map((row: { email: string }) => row.email);
    expect(emails).toEqual(['reader@xn--bcher-kva.test', 'twice@bücher.test', 'twice@xn--bcher-kva.test', 'οδοσ@example.com'].sort());
    await t.http().post('/auth/login').send({ email: 'ΟΔΟΣ@example.com', password: PASSWORD }).expect(200);
    await t.http().post('/auth/login').send({ email: 'reader@bücher.test', password: PASSWORD }).expect(200);
  });
});
