import pg from 'pg';

/** Notified (by a trigger, on commit) whenever the signing_keys table changes, from any instance or the CLI. */
export const SIGNING_KEYS_CHANNEL = 'tessera_signing_keys';

/**
 * One LISTEN connection per instance for every channel. A notification on a
 * channel calls its handler; every (re)connect calls all of them, since
 * notifications may have been missed meanwhile: the tables, not the
 * notifications, are the record.
 */
export class NotificationListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly databaseUrl: string,
    private readonly handlers: Record<string, () => void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'tessera-listener' });
    client.on('notification', (message) => this.handlers[message.channel]?.());
    client.on('error', (err) => this.reconnectSoon(client, err));
    client.on('end', () => this.reconnectSoon(client));
    await client.connect();
    for (const channel of Object.keys(this.handlers)) await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
    this.client = client;
    // Anything committed while we were not listening is picked up from the tables.
    for (const handler of Object.values(this.handlers)) handler();
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
