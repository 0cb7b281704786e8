import type { MigrationInterface, QueryRunner } from 'typeorm';
import { canonicalEmail } from '../../common/email.js';

/**
 * Rewrites stored emails into today's canonical form (final sigma folded, domain in A-labels), so
 * the accounts registered before it can still log in: logins are looked up by that form. Only
 * non-ASCII addresses can change. An address whose canonical form is already another account's is
 * left as it is and counted (both were one mailbox; an admin decides which account stays), as is
 * one with no canonical form (a character now refused).
 */
export class CanonicalEmails1795700000001 implements MigrationInterface {
  name = 'CanonicalEmails1795700000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    const rows = (await queryRunner.query(`SELECT id, email FROM users WHERE email ~ '[^\\x01-\\x7f]' ORDER BY created_at, id`)) as Array<{
      id: string;
      email: string;
    }>;
    let unchanged = 0;
    for (const { id, email } of rows) {
      const canonical = canonicalEmail(email);
      if (canonical === email) continue;
      if (canonical === undefined) {
        unchanged++;
        continue;
      }
      const [, rewritten] = (await queryRunner.query(
        `UPDATE users SET email = $2 WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM users WHERE email = $2)`,
        [id, canonical],
      )) as [unknown, number];
      if (rewritten === 0) unchanged++;
    }
    if (unchanged > 0) {
      queryRunner.connection.logger.log(
        'warn',
        `CanonicalEmails: ${unchanged} account(s) kept an address without a free canonical form; they cannot log in until an admin resolves them`,
      );
    }
  }

  async down(): Promise<void> {
    // The old spellings are not kept: the canonical ones mean the same mailboxes.
  }
}
