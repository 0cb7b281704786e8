import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The second factor (issue 19): a TOTP secret per user, encrypted under the KEKs, with the last
 * time step accepted (raised by a conditional UPDATE, so a code is accepted once across replicas);
 * recovery codes and login challenges (mfa_token) kept only as SHA-256 digests; and each session's
 * RFC 8176 authentication methods, carried by its access tokens as `amr`.
 */
export class SecondFactor1796200000000 implements MigrationInterface {
  name = 'SecondFactor1796200000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "sessions" ADD "amr" text array NOT NULL DEFAULT '{pwd}'
        `);
    await queryRunner.query(`
            CREATE TABLE "user_totp" (
                "user_id" uuid NOT NULL,
                "secret_ciphertext" bytea NOT NULL,
                "kek_id" text NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "confirmed_at" TIMESTAMP WITH TIME ZONE,
                "last_used_step" bigint,
                CONSTRAINT "user_totp_pkey" PRIMARY KEY ("user_id")
            )
        `);
    await queryRunner.query(`
            CREATE TABLE "mfa_recovery_codes" (
                "id" uuid NOT NULL,
                "user_id" uuid NOT NULL,
                "code_hash" bytea NOT NULL,
                "used_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "mfa_recovery_codes_pkey" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "mfa_recovery_codes_user_id_code_hash_key" ON "mfa_recovery_codes" ("user_id", "code_hash")
        `);
    await queryRunner.query(`
            CREATE TABLE "mfa_challenges" (
                "id" uuid NOT NULL,
                "user_id" uuid NOT NULL,
                "token_hash" bytea NOT NULL,
                "password_hash" text NOT NULL,
                "throttle_account_key" bytea NOT NULL,
                "throttle_client_key" text NOT NULL,
                "throttle_budgeted" boolean NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "used_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "mfa_challenges_pkey" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "mfa_challenges_user_id_idx" ON "mfa_challenges" ("user_id")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "mfa_challenges_token_hash_key" ON "mfa_challenges" ("token_hash")
        `);
    await queryRunner.query(`
            CREATE INDEX "mfa_challenges_expires_at_idx" ON "mfa_challenges" ("expires_at")
        `);
    await queryRunner.query(`
            ALTER TABLE "user_totp" ADD CONSTRAINT "user_totp_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "mfa_recovery_codes" ADD CONSTRAINT "mfa_recovery_codes_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "mfa_challenges" ADD CONSTRAINT "mfa_challenges_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "mfa_challenges"`);
    await queryRunner.query(`DROP TABLE "mfa_recovery_codes"`);
    await queryRunner.query(`DROP TABLE "user_totp"`);
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "amr"`);
  }
}
