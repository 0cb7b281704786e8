import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { Clock } from '../../src/common/clock.js';
import { OUTBOX_LEASE_MS, OutboxSender } from '../../src/mail/outbox-sender.js';
import { OutboxRepository } from '../../src/mail/outbox.repository.js';
import { freePort, waitFor } from '../support/service-process.js';
import { MailCatcher } from '../support/mail-catcher.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { createUser } from '../support/users.js';

const onServer = inject('databaseKind') === 'server';

/**
 * The mail outbox against a real SMTP server (smtp-server on loopback): mail queued while the
 * server is down arrives once it is back; a sender that dies between the server's acceptance and
 * its mark sends the mail once more after the lease; two replicas never send one mail twice.
 */
describe('mail outbox', () => {
  afterEach(() => vi.restoreAllMocks());

  describe('one replica', () => {
    let t: TestApp;
    let catcher: MailCatcher;

    beforeAll(async () => {
      await resetDatabase();
      catcher = await MailCatcher.start(await freePort());
      t = await startTestApp({ SMTP_URL: catcher.url });
    });
    afterAll(async () => {
      await t?.close();
      await catcher?.stop();
    });

    it('delivers mail queued during an SMTP outage once the server is back, and reports the delay', async () => {
      await catcher.stop();
      const emails = ['outage.1@example.com', 'outage.2@example.com', 'outage.3@example.com'];
      for (const email of emails) await createUser(t, email);
      for (const email of emails) await t.http().post('/auth/password/forgot').send({ email }).expect(202);
      // Down long enough for several failed attempts each (backoff 1, 2, 4 s ...).
      await waitFor(
        async () => {
          const [row] = (await t.dataSource.query('SELECT min(attempts) AS attempts FROM mail_outbox WHERE sent_at IS NULL')) as Array<{
            attempts: number;
          }>;
          return row!.attempts >= 3;
        },
        'three failed attempts per mail',
        30_000,
      );
      expect(catcher.mails).toHaveLength(0);

      await catcher.listen();
      const upAt = Date.now();
      await waitFor(() => catcher.mails.length === emails.length * 2, 'every mail after the outage', 90_000);
      const delays = catcher.mails.map((mail) => mail.receivedAt - upAt);
      console.log(`[outbox] after the SMTP server came back: first mail in ${Math.min(...delays)} ms, last in ${Math.max(...delays)} ms`);
      for (const email of emails)
        expect(
          catcher
            .to(email)
            .map((mail) => mail.subject)
            .sort(),
        ).toEqual(['Reset your password', 'Verify your email address']);
      const [row] = (await t.dataSource.query('SELECT count(*)::int AS unsent FROM mail_outbox WHERE sent_at IS NULL')) as Array<{ unsent: number }>;
      expect(row!.unsent).toBe(0);
    });

    it('sends a mail again when its sender died between the server accepting it and marking it sent (one duplicate, same Message-ID)', async () => {
      const repository = t.app.get(OutboxRepository);
      // The "crash": the mark after the server's 250 never happens, as if the process had died there.
      const crash = vi.spyOn(repository, 'markSent').mockRejectedValueOnce(new Error('process killed'));
      const email = 'crash@example.com';
      await createUser(t, email);
      await catcher.nth(email, 1);
      await waitFor(() => crash.mock.calls.length === 1, 'the failed mark');
      const [claimed] = (await t.dataSource.query('SELECT sent_at, next_attempt_at FROM mail_outbox WHERE recipient = $1', [email])) as Array<{
        sent_at: Date | null;
      }>;
      expect(claimed!.sent_at).toBeNull();

      // Within the lease nobody sends it again.
      await new Promise((r) => setTimeout(r, 2500));
      expect(catcher.to(email)).toHaveLength(1);
      // Once the lease has passed, the next sender (any replica, or this one restarted) does.
      const clock = t.app.get(Clock);
      const real = clock.now.bind(clock);
      vi.spyOn(clock, 'now').mockImplementation(() => new Date(real().getTime() + OUTBOX_LEASE_MS + 1000));
      await t.app.get(OutboxSender).wake();
      await catcher.nth(email, 2);
      await new Promise((r) => setTimeout(r, 1500));
      const copies = catcher.to(email);
      console.log(`[outbox] a crash between send and mark caused ${copies.length - 1} duplicate(s)`);
      expect(copies).toHaveLength(2);
      expect(copies[0]!.messageId).toBe(copies[1]!.messageId);
    });

    it('gives up mails whose link expired while undeliverable, and deletes finished mails after the retention', async () => {
      await catcher.stop();
      try {
        await createUser(t, 'expired-link@example.com');
        const clock = t.app.get(Clock);
        const real = clock.now.bind(clock);
        vi.spyOn(clock, 'now').mockImplementation(() => new Date(real().getTime() + 86400_000 + 1000));
        const { MailRetention } = await import('../../src/mail/mail-retention.js');
        expect((await t.app.get(MailRetention).run()).abandoned).toBeGreaterThanOrEqual(1);
        const [abandoned] = (await t.dataSource.query(
          `SELECT abandoned_at, text_body FROM mail_outbox WHERE recipient = 'expired-link@example.com'`,
        )) as Array<{
          abandoned_at: Date | null;
          text_body: string;
        }>;
        expect(abandoned).toMatchObject({ abandoned_at: expect.any(Date), text_body: '' });
        const finished = (
          (await t.dataSource.query('SELECT id FROM mail_outbox WHERE sent_at IS NOT NULL OR abandoned_at IS NOT NULL')) as Array<{ id: string }>
        ).map((row) => row.id);
        vi.restoreAllMocks();
        vi.spyOn(clock, 'now').mockImplementation(() => new Date(real().getTime() + 9 * 86400_000));
        await t.app.get(MailRetention).run();
        expect(await t.dataSource.query('SELECT 1 FROM mail_outbox WHERE id = ANY($1::uuid[])', [finished])).toHaveLength(0);
      } finally {
        vi.restoreAllMocks();
        await catcher.listen();
      }
    });
  });

  describe.skipIf(!onServer)('two replicas on one database (needs TEST_DATABASE_URL)', () => {
    let a: TestApp;
    let b: TestApp;
    let catcher: MailCatcher;

    beforeAll(async () => {
      await resetDatabase();
      catcher = await MailCatcher.start();
      a = await startTestApp({ SMTP_URL: catcher.url });
      b = await startTestApp({ SMTP_URL: catcher.url });
    });
    afterAll(async () => {
      await Promise.all([a?.close(), b?.close()]);
      await catcher?.stop();
    });

    it('never send one mail twice: every Message-ID arrives exactly once', async () => {
      // Queued on both replicas; both senders poll and wake on each other's mails at once.
      const emails = Array.from({ length: 40 }, (_, i) => `replica.${i}@example.com`);
      await Promise.all(emails.map((email, i) => createUser(i % 2 === 0 ? a : b, email)));
      await Promise.all(emails.map((email, i) => (i % 2 === 0 ? b : a).http().post('/auth/password/forgot').send({ email }).expect(202)));
      await waitFor(() => catcher.mails.length >= emails.length * 2, 'every mail', 60_000);
      await new Promise((r) => setTimeout(r, 3000));
      const ids = catcher.mails.map((mail) => mail.messageId);
      console.log(`[outbox] two replicas: ${ids.length} deliveries of ${new Set(ids).size} mails`);
      expect(ids).toHaveLength(emails.length * 2);
      expect(new Set(ids).size).toBe(ids.length);
    });
  });
});
