import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * OAuth 2.0 service clients (client credentials, and the callers of introspection, revocation and
 * the revocation feed): secrets only as SHA-256 digests, a token generation per client that
 * disabling and deleting raise (the revocation list refuses older tokens, as for users), the jti
 * of each private_key_jwt assertion until it expires (single use across replicas), and client
 * access tokens revoked on their own by jti.
 */
export class ServiceClients1796020933735 implements MigrationInterface {
  name = 'ServiceClients1796020933735';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "service_clients" (
                "id" uuid NOT NULL,
                "client_id" text NOT NULL,
                "name" text NOT NULL,
                "scopes" text array NOT NULL DEFAULT '{}',
                "roles" text array NOT NULL DEFAULT '{}',
                "auth_method" text NOT NULL,
                "secret_hash" bytea,
                "previous_secret_hash" bytea,
                "previous_secret_expires_at" TIMESTAMP WITH TIME ZONE,
                "configured_secret_hash" bytea,
                "jwks" jsonb,
                "jwks_uri" text,
                "disabled" boolean NOT NULL DEFAULT false,
                "token_generation" integer NOT NULL DEFAULT '0',
                "tokens_revoked_at" TIMESTAMP WITH TIME ZONE,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "deleted_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "service_clients_auth_method_check" CHECK (
                    "auth_method" IN (
                        'client_secret_basic',
                        'client_secret_post',
                        'private_key_jwt'
                    )
                ),
                CONSTRAINT "service_clients_pkey" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "service_clients_client_id_key" ON "service_clients" ("client_id")
        `);
    await queryRunner.query(`
            CREATE INDEX "service_clients_tokens_revoked_at_idx" ON "service_clients" ("tokens_revoked_at")
            WHERE "tokens_revoked_at" IS NOT NULL
        `);
    await queryRunner.query(`
            CREATE TABLE "client_assertions" (
                "client_id" text NOT NULL,
                "jti" text NOT NULL,
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "client_assertions_pkey" PRIMARY KEY ("client_id", "jti")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "client_assertions_expires_at_idx" ON "client_assertions" ("expires_at")
        `);
    await queryRunner.query(`
            CREATE TABLE "revoked_client_tokens" (
                "jti" uuid NOT NULL,
                "client_id" text NOT NULL,
                "revoked_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "revoked_client_tokens_pkey" PRIMARY KEY ("jti")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "revoked_client_tokens_expires_at_idx" ON "revoked_client_tokens" ("expires_at")
        `);
    await queryRunner.query(`
            CREATE INDEX "revoked_client_tokens_revoked_at_idx" ON "revoked_client_tokens" ("revoked_at")
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            DROP INDEX "public"."revoked_client_tokens_revoked_at_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."revoked_client_tokens_expires_at_idx"
        `);
    await queryRunner.query(`
            DROP TABLE "revoked_client_tokens"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."client_assertions_expires_at_idx"
        `);
    await queryRunner.query(`
            DROP TABLE "client_assertions"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."service_clients_tokens_revoked_at_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."service_clients_client_id_key"
        `);
    await queryRunner.query(`
            DROP TABLE "service_clients"
        `);
  }
}
