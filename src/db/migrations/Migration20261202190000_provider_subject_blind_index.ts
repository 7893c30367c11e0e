import { Migration } from '@mikro-orm/migrations';

/**
 * A provider's subject leaves the clear: a keyed blind index of (provider,
 * subject), unique per provider, and the subject sealed under the user's data
 * key. Only the service holds the index key, so this adds the columns and
 * frees the old one; the service converts existing rows at start-up before it
 * serves (domain/compliance/provider-subject-sealing.ts), emptying
 * `provider_subject`. The old unique constraint stays until the post-deploy
 * drop of that column: it still guards rows an older instance writes.
 */
export class Migration20261202190000_provider_subject_blind_index extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "social_logins" add column "provider_subject_index" text null, add column "provider_subject_ciphertext" text null;`,
    );
    this.addSql(`alter table "social_logins" alter column "provider_subject" drop not null;`);
    this.addSql(
      `alter table "social_logins" add constraint "social_logins_provider_subject_index_unique" unique ("provider", "provider_subject_index");`,
    );
  }

  override async down(): Promise<void> {
    // The clear subjects cannot come back from SQL: going down needs a restore.
    this.addSql(`alter table "social_logins" drop constraint "social_logins_provider_subject_index_unique";`);
    this.addSql(`alter table "social_logins" drop column "provider_subject_index", drop column "provider_subject_ciphertext";`);
  }
}
