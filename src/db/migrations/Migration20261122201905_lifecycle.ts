import { Migration } from '@mikro-orm/migrations';

export class Migration20261122201905_lifecycle extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "email_outbox" ("id" uuid not null, "template" text not null, "payload_ciphertext" text null, "status" text check ("status" in ('pending', 'sent', 'failed')) not null default 'pending', "attempts" int not null default 0, "next_attempt_at" timestamptz not null, "last_error" text null, "created_at" timestamptz not null, "sent_at" timestamptz null, constraint "email_outbox_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "email_outbox_due_index" on "email_outbox" ("status", "next_attempt_at");`);

    this.addSql(
      `create table "one_time_tokens" ("id" uuid not null, "user_id" uuid not null, "purpose" text check ("purpose" in ('email_verification', 'email_change', 'password_reset')) not null, "token_hash" text not null, "email" text not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "consumed_at" timestamptz null, constraint "one_time_tokens_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "one_time_tokens_user_id_index" on "one_time_tokens" ("user_id");`);
    this.addSql(`alter table "one_time_tokens" add constraint "one_time_tokens_token_hash_unique" unique ("token_hash");`);

    this.addSql(
      `alter table "one_time_tokens" add constraint "one_time_tokens_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(`alter table "users" add column "password_pepper_id" text null;`);

    this.addSql(
      `alter table "sessions" add column "previous_refresh_token_hash" text null, add column "rotated_at" timestamptz null, add column "successor_ciphertext" text null;`,
    );
    this.addSql(`create index "sessions_previous_refresh_token_hash_index" on "sessions" ("previous_refresh_token_hash");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "email_outbox" cascade;`);

    this.addSql(`drop table if exists "one_time_tokens" cascade;`);

    this.addSql(`drop index "sessions_previous_refresh_token_hash_index";`);
    this.addSql(
      `alter table "sessions" drop column "previous_refresh_token_hash", drop column "rotated_at", drop column "successor_ciphertext";`,
    );

    this.addSql(`alter table "users" drop column "password_pepper_id";`);
  }
}
