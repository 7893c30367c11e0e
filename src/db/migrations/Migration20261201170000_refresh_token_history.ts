import { Migration } from '@mikro-orm/migrations';

/**
 * Every refresh token a session rotated out, so reuse of any of them is
 * recognised (RFC 9700), and an index that lets the cleanup job find the
 * successors still kept encrypted for the grace window.
 */
export class Migration20261201170000_refresh_token_history extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "refresh_token_history" ("token_hash" text not null, "session_id" uuid not null, "rotated_at" timestamptz not null, constraint "refresh_token_history_pkey" primary key ("token_hash"));`,
    );
    this.addSql(`create index "refresh_token_history_session_id_index" on "refresh_token_history" ("session_id");`);
    this.addSql(
      `alter table "refresh_token_history" add constraint "refresh_token_history_session_id_foreign" foreign key ("session_id") references "sessions" ("id") on update cascade on delete cascade;`,
    );
    // The rotated-out token of every live session that has one, so the family is complete from the start.
    this.addSql(
      `insert into "refresh_token_history" ("token_hash", "session_id", "rotated_at") select "previous_refresh_token_hash", "id", coalesce("rotated_at", "created_at") from "sessions" where "previous_refresh_token_hash" is not null and "revoked_at" is null;`,
    );
    this.addSql(
      `create index "sessions_successor_kept_index" on "sessions" ("rotated_at") where "successor_ciphertext" is not null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "sessions_successor_kept_index";`);
    this.addSql(`drop table if exists "refresh_token_history" cascade;`);
  }
}
