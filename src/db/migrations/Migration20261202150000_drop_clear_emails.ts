import { Migration } from '@mikro-orm/migrations';

/**
 * Drops the clear `email` columns that migration 20261202120000 emptied in
 * favour of the blind index and the sealed address.
 *
 * A post-deploy migration (see POST_DEPLOY_MIGRATIONS): an existing database
 * gets it only from `tessera migrate --post-deploy`, once no instance of a
 * version that still reads these columns (its start-up conversion selects
 * them) can start again. It refuses while any row still holds an address in
 * clear: dropping would lose it, since only the service, holding the index
 * key, can convert it.
 */
export class Migration20261202150000_drop_clear_emails extends Migration {
  override async up(): Promise<void> {
    this.addSql(`do $$
begin
  if exists (select 1 from "users" where "email" is not null)
     or exists (select 1 from "one_time_tokens" where "email" is not null)
     or exists (select 1 from "social_logins" where "email" is not null) then
    raise exception 'addresses in clear remain in users, one_time_tokens or social_logins: start Tessera once to seal them, then migrate again';
  end if;
end $$;`);
    this.addSql(`alter table "users" drop column if exists "email";`);
    this.addSql(`alter table "one_time_tokens" drop column if exists "email";`);
    this.addSql(`alter table "social_logins" drop column if exists "email";`);
  }

  override async down(): Promise<void> {
    // Empty, as the conversion left them: the addresses live on sealed.
    this.addSql(`alter table "users" add column if not exists "email" text null;`);
    this.addSql(`alter table "one_time_tokens" add column if not exists "email" text null;`);
    this.addSql(`alter table "social_logins" add column if not exists "email" text null;`);
  }
}
