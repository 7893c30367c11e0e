import { Migration } from '@mikro-orm/migrations';

/**
 * Email addresses leave the clear: a keyed blind index (unique on users) and a
 * ciphertext under the user's data key. The index key is known to the service,
 * not to SQL, so this only adds the columns and frees the old ones; the service
 * converts the existing rows at start-up before it serves
 * (domain/compliance/email-sealing.ts), emptying the clear `email` columns.
 */
export class Migration20261202120000_email_blind_index extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "users" add column "email_index" text null, add column "email_ciphertext" text null;`);
    this.addSql(`alter table "users" alter column "email" drop not null;`);
    this.addSql(`alter table "users" drop constraint "users_email_unique";`);
    this.addSql(`alter table "users" add constraint "users_email_index_unique" unique ("email_index");`);
    this.addSql(`alter table "one_time_tokens" add column "email_index" text null, add column "email_ciphertext" text null;`);
    this.addSql(`alter table "one_time_tokens" alter column "email" drop not null;`);
    this.addSql(`alter table "social_logins" add column "email_ciphertext" text null;`);
  }

  override async down(): Promise<void> {
    // The clear addresses cannot come back from SQL: going down needs a restore.
    this.addSql(`alter table "social_logins" drop column "email_ciphertext";`);
    this.addSql(`alter table "one_time_tokens" drop column "email_index", drop column "email_ciphertext";`);
    this.addSql(`alter table "users" drop constraint "users_email_index_unique";`);
    this.addSql(`alter table "users" drop column "email_index", drop column "email_ciphertext";`);
  }
}
