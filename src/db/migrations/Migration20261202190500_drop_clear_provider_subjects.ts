import { Migration } from '@mikro-orm/migrations';

/**
 * Drops the clear `social_logins.provider_subject` column (and its unique
 * constraint) that migration 20261202190000 emptied in favour of the blind
 * index and the sealed subject.
 *
 * A post-deploy migration (see POST_DEPLOY_MIGRATIONS): the previous version
 * reads and writes this column. It refuses while a row still holds a subject
 * in clear: only the service, holding the index key, can convert it.
 */
export class Migration20261202190500_drop_clear_provider_subjects extends Migration {
  override async up(): Promise<void> {
    this.addSql(`do $$
begin
  if exists (select 1 from "social_logins" where "provider_subject" is not null) then
    raise exception 'provider subjects in clear remain in social_logins: start Tessera once to seal them, then migrate again';
  end if;
end $$;`);
    this.addSql(`alter table "social_logins" drop column if exists "provider_subject";`);
  }

  override async down(): Promise<void> {
    // Empty, as the conversion left it: the subjects live on sealed.
    this.addSql(`alter table "social_logins" add column if not exists "provider_subject" text null;`);
  }
}
