import { Migration } from '@mikro-orm/migrations';

/**
 * One-time tokens and provider links now hold their address sealed under the
 * user's data key. Rows written before held it in clear: blank it. Pending
 * links by mail end (their address cannot be checked any more; the user asks
 * for a new mail); provider links only lose the informational address.
 */
export class Migration20261202140500_seal_token_emails extends Migration {
  override async up(): Promise<void> {
    this.addSql(`update "one_time_tokens" set "email" = '', "consumed_at" = coalesce("consumed_at", now());`);
    this.addSql(`update "social_logins" set "email" = null where "email" is not null;`);
  }

  override async down(): Promise<void> {
    // The clear addresses are gone on purpose; nothing to restore.
  }
}
