import { Migration } from '@mikro-orm/migrations';

export class Migration20261122201643_audit_stream_indexes extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index "audit_events_actor_index" on "audit_events" ("actor_id", "id");`);
    this.addSql(`create index "audit_events_occurred_at_index" on "audit_events" ("occurred_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "audit_events_actor_index";`);
    this.addSql(`drop index "audit_events_occurred_at_index";`);
  }
}
