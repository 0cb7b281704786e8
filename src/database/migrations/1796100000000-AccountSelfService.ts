import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Account self-service and recovery (issue 18): users.email_verified; mail tokens (password reset,
 * email verification) kept only as SHA-256 digests; and the mail outbox, written in the
 * transaction that issues a token and delivered by the sender with retries. Tokens and mails go
 * with their account (ON DELETE CASCADE); audit events stay (they hold no foreign key).
 */
export class AccountSelfService1796100000000 implements MigrationInterface {
  name = 'AccountSelfService1796100000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "users" ADD "email_verified" boolean NOT NULL DEFAULT false
        `);
    await queryRunner.query(`
            CREATE TABLE "mail_tokens" (
                "id" uuid NOT NULL,
                "user_id" uuid NOT NULL,
                "purpose" text NOT NULL,
                "token_hash" bytea NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "consumed_at" TIMESTAMP WITH TIME ZONE,
                "outcome" text,
                CONSTRAINT "mail_tokens_pkey" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "mail_tokens_user_id_idx" ON "mail_tokens" ("user_id", "purpose")
        `);
    await queryRunner.query(`
            CREATE INDEX "mail_tokens_expires_at_idx" ON "mail_tokens" ("expires_at")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "mail_tokens_token_hash_key" ON "mail_tokens" ("token_hash")
        `);
    await queryRunner.query(`
            CREATE TABLE "mail_outbox" (
                "id" uuid NOT NULL,
                "user_id" uuid NOT NULL,
                "recipient" character varying(254) NOT NULL,
                "subject" text NOT NULL,
                "text_body" text NOT NULL,
                "html_body" text,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "attempts" integer NOT NULL DEFAULT '0',
                "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "last_error" text,
                "sent_at" TIMESTAMP WITH TIME ZONE,
                "abandoned_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "mail_outbox_pkey" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "mail_outbox_due_idx" ON "mail_outbox" ("next_attempt_at")
            WHERE "sent_at" IS NULL AND "abandoned_at" IS NULL
        `);
    await queryRunner.query(`
            CREATE INDEX "mail_outbox_user_id_idx" ON "mail_outbox" ("user_id")
        `);
    await queryRunner.query(`
            ALTER TABLE "mail_tokens"
            ADD CONSTRAINT "mail_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "mail_outbox"
            ADD CONSTRAINT "mail_outbox_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "mail_outbox"`);
    await queryRunner.query(`DROP TABLE "mail_tokens"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "email_verified"`);
  }
}
