import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Revocation by generation instead of by time: every change that voids a user's access tokens
 * (roles, disabling, ending all sessions, deletion) raises users.token_generation, and a token
 * carries the generation it was issued under. Comparing two integers cannot be outrun by a clock
 * or a second boundary, as the old iat cutoff could.
 *
 * Also: indexes for the retention sweeps, and an audit trail that the retention sweep (and only
 * it, for rows past the retention it declares) may delete from.
 */
export class TokenGenerationsAndRetention1795600000000 implements MigrationInterface {
  name = 'TokenGenerationsAndRetention1795600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "users" ADD "token_generation" integer NOT NULL DEFAULT 0');
    await queryRunner.query('ALTER TABLE "users" RENAME COLUMN "tokens_not_before" TO "tokens_revoked_at"');
    await queryRunner.query('ALTER INDEX "users_tokens_not_before_idx" RENAME TO "users_tokens_revoked_at_idx"');
    await queryRunner.query('CREATE INDEX "sessions_expires_at_idx" ON "sessions" ("expires_at")');
    await queryRunner.query('CREATE INDEX "refresh_tokens_pending_replay_idx" ON "refresh_tokens" ("used_at") WHERE "rotation_replay" IS NOT NULL');
    // A user deleted straight from the database takes every token of theirs along.
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION "users_announce_deletion"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
          PERFORM pg_notify('auth_revocation', json_build_object(
              'kind', 'user', 'id', OLD.id, 'generation', OLD.token_generation + 1,
              'at', floor(extract(epoch FROM clock_timestamp()) * 1000)
          )::text);
          RETURN OLD;
      END
      $$
    `);
    // Still append-only: no update ever, and a delete only of rows older than the retention that
    // the deleting transaction declares (SET LOCAL auth.audit_retention), measured by the database's clock.
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION "audit_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
          retention interval := nullif(current_setting('auth.audit_retention', true), '')::interval;
      BEGIN
          IF TG_OP = 'DELETE' AND retention IS NOT NULL AND OLD.occurred_at < now() - retention THEN
              RETURN OLD;
          END IF;
          RAISE EXCEPTION 'audit_events is append-only';
      END
      $$
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION "audit_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
          RAISE EXCEPTION 'audit_events is append-only';
      END
      $$
    `);
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION "users_announce_deletion"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
          PERFORM pg_notify('auth_revocation', json_build_object(
              'kind', 'user', 'id', OLD.id, 'at', floor(extract(epoch FROM clock_timestamp()) * 1000)
          )::text);
          RETURN OLD;
      END
      $$
    `);
    await queryRunner.query('DROP INDEX "refresh_tokens_pending_replay_idx"');
    await queryRunner.query('DROP INDEX "sessions_expires_at_idx"');
    await queryRunner.query('ALTER INDEX "users_tokens_revoked_at_idx" RENAME TO "users_tokens_not_before_idx"');
    await queryRunner.query('ALTER TABLE "users" RENAME COLUMN "tokens_revoked_at" TO "tokens_not_before"');
    await queryRunner.query('ALTER TABLE "users" DROP COLUMN "token_generation"');
  }
}
