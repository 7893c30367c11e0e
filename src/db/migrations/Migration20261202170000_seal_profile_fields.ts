import { Migration } from '@mikro-orm/migrations';

/**
 * The avatar URL and the preferences leave the clear: both are sealed under the
 * user's data key, like the other profile fields. `preferences` becomes text
 * (one ciphertext of the JSON; '' for none). The data keys live in the key
 * store, out of SQL's reach, so this only changes the type; the service seals
 * the rows still in clear at start-up before it serves
 * (domain/compliance/profile-sealing.ts).
 */
export class Migration20261202170000_seal_profile_fields extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "user_profiles" alter column "preferences" drop default;`);
    this.addSql(
      `alter table "user_profiles" alter column "preferences" type text
         using (case when "preferences" = '{}'::jsonb then '' else "preferences"::text end);`,
    );
    this.addSql(`alter table "user_profiles" alter column "preferences" set default '';`);
  }

  override async down(): Promise<void> {
    // Sealed preferences cannot come back from SQL (going down needs a restore): they become empty.
    this.addSql(`alter table "user_profiles" alter column "preferences" drop default;`);
    this.addSql(
      `alter table "user_profiles" alter column "preferences" type jsonb
         using (case when "preferences" like '{%' then "preferences"::jsonb else '{}'::jsonb end);`,
    );
    this.addSql(`alter table "user_profiles" alter column "preferences" set default '{}';`);
  }
}
