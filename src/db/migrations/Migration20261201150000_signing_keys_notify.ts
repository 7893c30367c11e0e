import { Migration } from '@mikro-orm/migrations';

/**
 * Any change to signing_keys (a rotation on any instance, the CLI, the first
 * start) notifies tessera_signing_keys on commit, so every instance reloads
 * its key ring at once instead of at its next periodic reload.
 */
export class Migration20261201150000_signing_keys_notify extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create function "tessera_notify_signing_keys"() returns trigger language plpgsql as $$
begin
  perform pg_notify('tessera_signing_keys', '');
  return null;
end;
$$;`);
    this.addSql(
      `create trigger "signing_keys_notify" after insert or update or delete on "signing_keys" for each statement execute function "tessera_notify_signing_keys"();`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists "signing_keys_notify" on "signing_keys";`);
    this.addSql(`drop function if exists "tessera_notify_signing_keys"();`);
  }
}
