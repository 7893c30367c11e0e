import { Migration } from '@mikro-orm/migrations';

export class Migration20261122201651_identity_administration extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "service_accounts" ("id" uuid not null, "name" text not null, "role" text check ("role" in ('user', 'admin', 'auditor', 'service')) not null, "api_key_hash" text not null, "api_key_prefix" text not null, "created_at" timestamptz not null, "last_used_at" timestamptz null, "revoked_at" timestamptz null, constraint "service_accounts_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "service_accounts" add constraint "service_accounts_api_key_hash_unique" unique ("api_key_hash");`);
    this.addSql(
      `create unique index "service_accounts_live_name_unique" on "service_accounts" ("name") where "revoked_at" is null;`,
    );

    this.addSql(
      `create table "social_logins" ("id" uuid not null, "user_id" uuid not null, "provider" text not null, "provider_subject" text not null, "email" text null, "created_at" timestamptz not null, "last_login_at" timestamptz null, constraint "social_logins_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "social_logins" add constraint "social_logins_provider_subject_unique" unique ("provider", "provider_subject");`,
    );
    this.addSql(
      `alter table "social_logins" add constraint "social_logins_user_provider_unique" unique ("user_id", "provider");`,
    );

    this.addSql(
      `alter table "social_logins" add constraint "social_logins_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "users" add column "suspended_at" timestamptz null, add column "app_metadata" jsonb not null default '{}';`,
    );
    this.addSql(`create index "users_created_at_id_index" on "users" ("created_at", "id");`);
    this.addSql(`create index "users_app_metadata_index" on "users" using gin ("app_metadata" jsonb_path_ops);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "service_accounts" cascade;`);

    this.addSql(`drop table if exists "social_logins" cascade;`);

    this.addSql(`drop index "users_created_at_id_index";`);
    this.addSql(`drop index "users_app_metadata_index";`);
    this.addSql(`alter table "users" drop column "suspended_at", drop column "app_metadata";`);
  }
}
