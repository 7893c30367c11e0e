import pg from 'pg';
import { AUDIT_CHANNEL } from './audit-log.js';

/**
 * One LISTEN connection per instance on the audit channel. Every
 * notification (and every reconnect, when notifications may have been
 * missed) calls `onWake`; the table, not the notification, is the record.
 */
export class AuditNotificationListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly databaseUrl: string,
    private readonly onWake: () => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'tessera-audit-listener' });
    client.on('notification', () => this.onWake());
    client.on('error', (err) => this.reconnectSoon(client, err));
    client.on('end', () => this.reconnectSoon(client));
    await client.connect();
    await client.query(`LISTEN ${AUDIT_CHANNEL}`);
    this.client = client;
    // Anything committed while we were not listening is picked up from the table.
    this.onWake();
  }

  private reconnectSoon(client: pg.Client, err?: unknown): void {
    if (this.stopped || this.client !== client) return;
    this.client = undefined;
    if (err) this.onError(err);
    client.removeAllListeners();
    client.end().catch(() => {});
    const attempt = () => {
      if (this.stopped) return;
      this.connect().catch((e: unknown) => {
        this.onError(e);
        this.retryTimer = setTimeout(attempt, 1000);
      });
    };
    this.retryTimer = setTimeout(attempt, 200);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners();
      client.on('error', () => {});
      await client.end().catch(() => {});
    }
  }
}
