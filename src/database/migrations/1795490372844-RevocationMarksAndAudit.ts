import { MigrationInterface, QueryRunner } from 'typeorm';

export class RevocationMarksAndAudit1795490372844 implements MigrationInterface {
  name = 'RevocationMarksAndAudit1795490372844';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "audit_events" (
                "id" uuid NOT NULL,
                "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "type" text NOT NULL,
                "user_id" uuid,
                "session_id" uuid,
                "ip" text,
                "user_agent" text,
                "details" jsonb NOT NULL DEFAULT '{}',
                CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "audit_events_user_id_idx" ON "audit_events" ("user_id", "occurred_at")
        `);
    await queryRunner.query(`
            CREATE INDEX "audit_events_occurred_at_idx" ON "audit_events" ("occurred_at", "id")
        `);
    // Append-only at the database too: no code path, bug or injected SQL can rewrite the trail.
    await queryRunner.query(`
            CREATE FUNCTION "audit_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit_events is append-only';
            END
            $$
        `);
    await queryRunner.query(`
            CREATE TRIGGER "audit_events_append_only" BEFORE UPDATE OR DELETE ON "audit_events"
            FOR EACH ROW EXECUTE FUNCTION "audit_events_append_only"()
        `);
    await queryRunner.query(`
            ALTER TABLE "users"
            ADD "tokens_not_before" TIMESTAMP WITH TIME ZONE
        `);
    await queryRunner.query(`
            CREATE INDEX "users_tokens_not_before_idx" ON "users" ("tokens_not_before")
            WHERE "tokens_not_before" IS NOT NULL
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            DROP INDEX "public"."users_tokens_not_before_idx"
        `);
    await queryRunner.query(`
            ALTER TABLE "users" DROP COLUMN "tokens_not_before"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."audit_events_occurred_at_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."audit_events_user_id_idx"
        `);
    await queryRunner.query(`
            DROP TABLE "audit_events"
        `);
    await queryRunner.query(`
            DROP FUNCTION "audit_events_append_only"()
        `);
  }
}
