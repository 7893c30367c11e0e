import { Migration } from '@mikro-orm/migrations';

/**
 * One-time tokens now hold the address they were mailed to sealed under the
 * user's data key. Rows written before held it in clear: blank it, and end the
 * links still pending (their address cannot be checked any more; the user asks
 * for a new mail).
 */
export class Migration20261202140500_seal_token_emails extends Migration {
  override async up(): Promise<void> {
    this.addSql(`update "one_time_tokens" set "email" = '', "consumed_at" = coalesce("consumed_at", now());`);
  }

  override async down(): Promise<void> {
    // The clear addresses are gone on purpose; nothing to restore.
  }
}
