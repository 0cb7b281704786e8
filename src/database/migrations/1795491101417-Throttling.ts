import { MigrationInterface, QueryRunner } from 'typeorm';

export class Throttling1795491101417 implements MigrationInterface {
  name = 'Throttling1795491101417';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "rate_limit_counters" (
                "key" text NOT NULL,
                "window_start" TIMESTAMP WITH TIME ZONE NOT NULL,
                "hits" integer NOT NULL,
                CONSTRAINT "rate_limit_counters_pkey" PRIMARY KEY ("key")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "rate_limit_counters_window_start_idx" ON "rate_limit_counters" ("window_start")
        `);
    await queryRunner.query(`
            CREATE TABLE "login_throttle" (
                "account_key" bytea NOT NULL,
                "failures" integer NOT NULL,
                "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "login_throttle_pkey" PRIMARY KEY ("account_key")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "login_throttle_updated_at_idx" ON "login_throttle" ("updated_at")
        `);
    // A user deleted straight from the database (there is no API for it) takes their access
    // tokens along: every replica hears of it like any other revocation.
    await queryRunner.query(`
            CREATE FUNCTION "users_announce_deletion"() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('auth_revocation', json_build_object(
                    'kind', 'user', 'id', OLD.id, 'at', floor(extract(epoch FROM clock_timestamp()) * 1000)
                )::text);
                RETURN OLD;
            END
            $$
        `);
    await queryRunner.query(`
            CREATE TRIGGER "users_announce_deletion" AFTER DELETE ON "users"
            FOR EACH ROW EXECUTE FUNCTION "users_announce_deletion"()
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "users_announce_deletion" ON "users"`);
    await queryRunner.query(`DROP FUNCTION "users_announce_deletion"()`);
    await queryRunner.query(`
            DROP INDEX "public"."login_throttle_updated_at_idx"
        `);
    await queryRunner.query(`
            DROP TABLE "login_throttle"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."rate_limit_counters_window_start_idx"
        `);
    await queryRunner.query(`
            DROP TABLE "rate_limit_counters"
        `);
  }
}
