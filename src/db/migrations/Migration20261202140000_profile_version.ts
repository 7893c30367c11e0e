import { Migration } from '@mikro-orm/migrations';

/**
 * A version per profile, raised by every change: the profile's etag, so an
 * update made from a stale read is refused instead of overwriting a newer one.
 */
export class Migration20261202140000_profile_version extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "user_profiles" add column "version" integer not null default 1;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "user_profiles" drop column if exists "version";`);
  }
}
