import { Migration } from '@mikro-orm/migrations';

/** A service account may be bound to a client certificate identity (a URI SAN), unique among live accounts. */
export class Migration20261201153000_service_account_certificates extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "service_accounts" add column "certificate_identity" text null;`);
    this.addSql(
      `create unique index "service_accounts_live_certificate_identity_unique" on "service_accounts" ("certificate_identity") where "revoked_at" is null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "service_accounts_live_certificate_identity_unique";`);
    this.addSql(`alter table "service_accounts" drop column "certificate_identity";`);
  }
}
