import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Login backoff per (account, client) instead of per account, an account-wide guess budget for
 * unknown clients, and trusted devices that are exempt from it. The old per-account counters are
 * dropped rather than converted: they are minutes of throttle state, and keeping them would carry
 * the lockout this change removes.
 */
export class LoginThrottlePerClient1795700000000 implements MigrationInterface {
  name = 'LoginThrottlePerClient1795700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "login_throttle"`);
    await queryRunner.query(`
      CREATE UNLOGGED TABLE "login_throttle" (
        "account_key" bytea NOT NULL,
        "client_key" text NOT NULL,
        "failures" integer NOT NULL,
        "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "login_throttle_pkey" PRIMARY KEY ("account_key", "client_key")
      )`);
    await queryRunner.query(`CREATE INDEX "login_throttle_updated_at_idx" ON "login_throttle" ("updated_at")`);
    await queryRunner.query(`
      CREATE UNLOGGED TABLE "login_guess_budgets" (
        "account_key" bytea NOT NULL,
        "spent" double precision NOT NULL,
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "login_guess_budgets_pkey" PRIMARY KEY ("account_key")
      )`);
    await queryRunner.query(`CREATE INDEX "login_guess_budgets_updated_at_idx" ON "login_guess_budgets" ("updated_at")`);
    await queryRunner.query(`
      CREATE TABLE "trusted_devices" (
        "proof_hash" bytea NOT NULL,
        "user_id" uuid NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "trusted_devices_pkey" PRIMARY KEY ("proof_hash"),
        CONSTRAINT "trusted_devices_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX "trusted_devices_user_id_idx" ON "trusted_devices" ("user_id")`);
    await queryRunner.query(`CREATE INDEX "trusted_devices_expires_at_idx" ON "trusted_devices" ("expires_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "trusted_devices"`);
    await queryRunner.query(`DROP TABLE "login_guess_budgets"`);
    await queryRunner.query(`DROP TABLE "login_throttle"`);
    await queryRunner.query(`
      CREATE UNLOGGED TABLE "login_throttle" (
        "account_key" bytea NOT NULL,
        "failures" integer NOT NULL,
        "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "login_throttle_pkey" PRIMARY KEY ("account_key")
      )`);
    await queryRunner.query(`CREATE INDEX "login_throttle_updated_at_idx" ON "login_throttle" ("updated_at")`);
  }
}
