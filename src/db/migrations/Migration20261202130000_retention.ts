import { Migration } from '@mikro-orm/migrations';

/**
 * Retention: queued mail names its user (erasure deletes it), and each kind
 * the retention job prunes gets an index on the time it stopped serving, so
 * a run that finds nothing reads no table.
 */
export class Migration20261202130000_retention extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "email_outbox" add column "user_id" uuid null;`);
    // Belt and braces: EraseUser deletes (and counts) the rows before the account goes.
    this.addSql(
      `alter table "email_outbox" add constraint "email_outbox_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(`create index "email_outbox_user_id_index" on "email_outbox" ("user_id");`);
    this.addSql(
      `create index "email_outbox_finished_index" on "email_outbox" ((coalesce("sent_at", "next_attempt_at"))) where "status" <> 'pending';`,
    );
    this.addSql(`create index "sessions_ended_index" on "sessions" ((least("expires_at", "revoked_at")));`);
    this.addSql(`create index "one_time_tokens_spent_index" on "one_time_tokens" ((least("expires_at", "consumed_at")));`);
    // Only events that still hold something personal: the scrubbed ones leave the index.
    this.addSql(
      `create index "audit_events_personal_index" on "audit_events" ("occurred_at") where "ip" is not null or "user_agent" is not null or jsonb_exists_any("metadata", array['sealed', 'subject', 'email']);`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "audit_events_personal_index";`);
    this.addSql(`drop index if exists "one_time_tokens_spent_index";`);
    this.addSql(`drop index if exists "sessions_ended_index";`);
    this.addSql(`drop index if exists "email_outbox_finished_index";`);
    this.addSql(`alter table "email_outbox" drop column if exists "user_id";`);
  }
}
