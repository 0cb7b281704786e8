import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateSessionsAndSigningKeys1795489542992 implements MigrationInterface {
  name = 'CreateSessionsAndSigningKeys1795489542992';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "signing_keys" (
                "kid" text NOT NULL,
                "state" text NOT NULL,
                "public_jwk" jsonb NOT NULL,
                "private_key_ciphertext" bytea NOT NULL,
                "kek_id" text NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "activates_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "retires_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "signing_keys_state_check" CHECK ("state" IN ('next', 'active', 'retired')),
                CONSTRAINT "signing_keys_pkey" PRIMARY KEY ("kid")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "signing_keys_one_active" ON "signing_keys" ("state")
            WHERE "state" = 'active'
        `);
    await queryRunner.query(`
            CREATE TABLE "sessions" (
                "id" uuid NOT NULL,
                "user_id" uuid NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "last_used_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "ip" text,
                "user_agent" text,
                "revoked_at" TIMESTAMP WITH TIME ZONE,
                "revoked_reason" text,
                CONSTRAINT "sessions_pkey" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "sessions_user_id_idx" ON "sessions" ("user_id")
        `);
    await queryRunner.query(`
            CREATE INDEX "sessions_revoked_at_idx" ON "sessions" ("revoked_at")
            WHERE "revoked_at" IS NOT NULL
        `);
    await queryRunner.query(`
            CREATE TABLE "refresh_tokens" (
                "id" uuid NOT NULL,
                "session_id" uuid NOT NULL,
                "parent_id" uuid,
                "token_hash" bytea NOT NULL,
                "issued_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "used_at" TIMESTAMP WITH TIME ZONE,
                "rotation_replay" bytea,
                CONSTRAINT "refresh_tokens_pkey" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "refresh_tokens_session_id_idx" ON "refresh_tokens" ("session_id")
        `);
    await queryRunner.query(`
            CREATE INDEX "refresh_tokens_parent_id_idx" ON "refresh_tokens" ("parent_id")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "refresh_tokens_token_hash_key" ON "refresh_tokens" ("token_hash")
        `);
    await queryRunner.query(`
            ALTER TABLE "sessions"
            ADD CONSTRAINT "sessions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "refresh_tokens"
            ADD CONSTRAINT "refresh_tokens_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "refresh_tokens" DROP CONSTRAINT "refresh_tokens_session_id_fkey"
        `);
    await queryRunner.query(`
            ALTER TABLE "sessions" DROP CONSTRAINT "sessions_user_id_fkey"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."refresh_tokens_token_hash_key"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."refresh_tokens_parent_id_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."refresh_tokens_session_id_idx"
        `);
    await queryRunner.query(`
            DROP TABLE "refresh_tokens"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."sessions_revoked_at_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."sessions_user_id_idx"
        `);
    await queryRunner.query(`
            DROP TABLE "sessions"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."signing_keys_one_active"
        `);
    await queryRunner.query(`
            DROP TABLE "signing_keys"
        `);
  }
}
