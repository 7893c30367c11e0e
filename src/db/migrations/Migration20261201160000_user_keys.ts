import { Migration } from '@mikro-orm/migrations';

/** Per-user data keys, wrapped by the master key (crypto-shredding), and the receipts of erasures. */
export class Migration20261201160000_user_keys extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "user_keys" ("user_id" uuid not null, "key_id" text not null, "wrapped_key" text not null, "master_key_id" text not null, "created_at" timestamptz not null, constraint "user_keys_pkey" primary key ("user_id"));`,
    );
    this.addSql(`create index "user_keys_master_key_id_index" on "user_keys" ("master_key_id");`);
    this.addSql(
      `create table "erasure_receipts" ("user_id" uuid not null, "erased_at" timestamptz not null, "jws" text not null, constraint "erasure_receipts_pkey" primary key ("user_id"));`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "erasure_receipts";`);
    this.addSql(`drop table if exists "user_keys";`);
  }
}
