import { Migration } from '@mikro-orm/migrations';

export class Migration20261122193451_initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "audit_events" ("id" bigserial primary key, "occurred_at" timestamptz not null, "type" text not null, "actor_type" text not null, "actor_id" text null, "subject_user_id" uuid null, "ip" text null, "user_agent" text null, "request_id" text null, "metadata" jsonb not null default '{}');`,
    );
    this.addSql(`create index "audit_events_subject_index" on "audit_events" ("subject_user_id", "id");`);
    this.addSql(`create index "audit_events_type_index" on "audit_events" ("type", "id");`);

    this.addSql(
      `create table "signing_keys" ("kid" text not null, "alg" text not null, "public_jwk" jsonb not null, "private_jwk_ciphertext" text not null, "state" text check ("state" in ('next', 'active', 'retired')) not null, "created_at" timestamptz not null, "activated_at" timestamptz null, "retired_at" timestamptz null, "publish_until" timestamptz null, constraint "signing_keys_pkey" primary key ("kid"));`,
    );

    this.addSql(
      `create table "users" ("id" uuid not null, "email" text not null, "email_verified_at" timestamptz null, "password_hash" text null, "role" text check ("role" in ('user', 'admin', 'auditor', 'service')) not null default 'user', "status" text check ("status" in ('active', 'suspended', 'deleted')) not null default 'active', "last_login_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "deleted_at" timestamptz null, "version" int not null default 1, constraint "users_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "users" add constraint "users_email_unique" unique ("email");`);

    this.addSql(
      `create table "sessions" ("id" uuid not null, "user_id" uuid not null, "refresh_token_hash" text not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "last_used_at" timestamptz not null, "revoked_at" timestamptz null, "revoke_reason" text null, "ip" text null, "user_agent" text null, constraint "sessions_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "sessions_user_id_index" on "sessions" ("user_id");`);
    this.addSql(`alter table "sessions" add constraint "sessions_refresh_token_hash_unique" unique ("refresh_token_hash");`);

    this.addSql(
      `create table "user_profiles" ("user_id" uuid not null, "full_name" text not null default '', "avatar_url" text not null default '', "bio" text not null default '', "location" text not null default '', "phone_number_ciphertext" text null, "preferences" jsonb not null default '{}', "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "user_profiles_pkey" primary key ("user_id"));`,
    );

    this.addSql(
      `alter table "sessions" add constraint "sessions_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "user_profiles" add constraint "user_profiles_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "sessions" drop constraint "sessions_user_id_foreign";`);

    this.addSql(`alter table "user_profiles" drop constraint "user_profiles_user_id_foreign";`);

    this.addSql(`drop table if exists "audit_events" cascade;`);

    this.addSql(`drop table if exists "signing_keys" cascade;`);

    this.addSql(`drop table if exists "users" cascade;`);

    this.addSql(`drop table if exists "sessions" cascade;`);

    this.addSql(`drop table if exists "user_profiles" cascade;`);
  }
}
