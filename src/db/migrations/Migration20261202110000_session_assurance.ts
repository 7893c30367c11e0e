import { Migration } from '@mikro-orm/migrations';

/**
 * How and when each session's user last proved who they are, so access
 * tokens can carry auth_time, amr and acr and refreshing keeps them. Existing
 * sessions were opened by a sign-in: a password one, or a provider's, whose
 * methods were not recorded ("fed").
 */
export class Migration20261202110000_session_assurance extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "sessions" add column "authenticated_at" timestamptz null, add column "amr" text[] null, add column "acr" text null;`,
    );
    // A provider-only account (no password hash) can only have signed in through its provider.
    this.addSql(
      `update "sessions" s set "authenticated_at" = s."created_at", "acr" = 'aal1', "amr" = case when u."password_hash" is null then '{fed}'::text[] else '{pwd}'::text[] end from "users" u where u."id" = s."user_id";`,
    );
    this.addSql(
      `alter table "sessions" alter column "authenticated_at" set not null, alter column "amr" set not null, alter column "acr" set not null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "sessions" drop column "authenticated_at", drop column "amr", drop column "acr";`);
  }
}
