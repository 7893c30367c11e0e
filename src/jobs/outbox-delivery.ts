import { SpanKind } from '@opentelemetry/api';
import { EmailOutbox, LockMode, type Orm } from '../db/index.js';
import type { Clock } from '../clock.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { MAIL_TEMPLATES, type MailPayload, type MailTemplate } from '../domain/kernel/outbox.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { renderMail } from '../mail/templates.js';
import { inSpan } from '../telemetry/spans.js';
import type { MailTransport } from '../mail/transport.js';

export interface OutboxWorkerOptions {
  from: string;
  publicBaseUrl: string;
  pollIntervalMs: number;
  /** First retry delay; doubles with every failed attempt, up to an hour. */
  retryBaseSeconds: number;
  /** Attempts before a message is given up (status failed). */
  maxAttempts: number;
}

/** Rows claimed per transaction: bounds how long one transaction stays open while SMTP answers. */
const BATCH_SIZE = 10;
const MAX_RETRY_DELAY_SECONDS = 3600;

/**
 * Delivers the email outbox. Every instance runs one; rows are claimed with
 * SELECT ... FOR UPDATE SKIP LOCKED inside the transaction that records the
 * outcome, so two instances never send the same row. A failed delivery is
 * retried with exponential backoff; after delivery (or giving up) the
 * encrypted payload is deleted, leaving only template, status and times.
 *
 * Delivery is at least once: a crash between the SMTP server's acceptance and
 * the commit sends that message again.
 */
export class OutboxWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;

  constructor(
    private readonly orm: Orm,
    private readonly transport: MailTransport,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly options: OutboxWorkerOptions,
  ) {}

  /** Starts polling. */
  start(): void {
    this.stopping = false;
    this.schedule(0);
  }

  /** Stops polling and waits for a delivery run in progress. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.running;
    this.transport.close();
  }

  /** Delivers every due message now (a run already in progress is awaited instead). */
  runOnce(): Promise<void> {
    this.running ??= this.deliverDue().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.runOnce()
        .catch((err: unknown) => this.log.error({ err }, 'email outbox run failed'))
        .finally(() => this.schedule(this.options.pollIntervalMs));
    }, delayMs);
    this.timer.unref();
  }

  private async deliverDue(): Promise<void> {
    let claimed: number;
    do claimed = await this.deliverBatch();
    while (claimed === BATCH_SIZE && !this.stopping);
  }

  /** Claims up to BATCH_SIZE due rows, delivers them and records each outcome, in one transaction. */
  private deliverBatch(): Promise<number> {
    return this.orm.em.fork().transactional(async (em) => {
      const rows = await em.find(
        EmailOutbox,
        { status: 'pending', nextAttemptAt: { $lte: this.clock.now() } },
        { orderBy: { nextAttemptAt: 'asc' }, limit: BATCH_SIZE, lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE },
      );
      for (const row of rows) await this.deliver(row);
      return rows.length;
    });
  }

  private async deliver(row: EmailOutbox): Promise<void> {
    row.attempts += 1;
    // A trace of its own per message (the poll is not traced): template and attempt, never the address or links.
    const attributes = {
      'tessera.mail.template': row.template,
      'tessera.mail.outbox_id': row.id,
      'tessera.mail.attempt': row.attempts,
    };
    try {
      await inSpan('mail.deliver', attributes, () => this.send(row), { root: true, kind: SpanKind.PRODUCER });
    } catch (err) {
      this.recordFailure(row, err);
      return;
    }
    row.status = 'sent';
    row.sentAt = this.clock.now();
    row.payloadCiphertext = null;
    row.lastError = null;
    this.metrics.mailDeliveries.inc({ outcome: 'sent' });
    this.log.info({ outboxId: row.id, template: row.template, attempts: row.attempts }, 'mail delivered');
  }

  private async send(row: EmailOutbox): Promise<void> {
    const payload = JSON.parse(this.box.open(row.payloadCiphertext ?? '', row.id)) as MailPayload;
    if (!(MAIL_TEMPLATES as readonly string[]).includes(row.template)) throw new Error(`unknown template ${row.template}`);
    const rendered = renderMail(row.template as MailTemplate, payload.variables, this.options.publicBaseUrl);
    await this.transport.send({ ...rendered, from: this.options.from, to: payload.to, id: row.id });
  }

  private recordFailure(row: EmailOutbox, err: unknown): void {
    const error = describe(err);
    row.lastError = error;
    if (row.attempts >= this.options.maxAttempts) {
      row.status = 'failed';
      row.payloadCiphertext = null;
      this.metrics.mailDeliveries.inc({ outcome: 'failed' });
      this.log.error({ outboxId: row.id, template: row.template, attempts: row.attempts, error }, 'mail given up');
      return;
    }
    const delaySeconds = Math.min(this.options.retryBaseSeconds * 2 ** (row.attempts - 1), MAX_RETRY_DELAY_SECONDS);
    row.nextAttemptAt = new Date(this.clock.now().getTime() + delaySeconds * 1000);
    this.metrics.mailDeliveries.inc({ outcome: 'retry' });
    this.log.warn(
      { outboxId: row.id, template: row.template, attempts: row.attempts, retryInSeconds: delaySeconds, error },
      'mail delivery failed',
    );
  }
}

/** An error's code and first line, bounded: enough to diagnose, nothing of the message's content. */
/** Anything shaped like an email address: SMTP replies quote the recipient ("550 5.1.1 <ada@example.com>: ..."). */
const EMAIL_ADDRESS = /[^\s<>"'(),;:@[\]]+@[^\s<>"'(),;:@[\]]+/g;

/** The first line of a delivery error, without addresses: it is stored in email_outbox.last_error and logged. */
function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const first = String(e?.message ?? err)
    .split('\n')[0]!
    .replace(EMAIL_ADDRESS, '[address]');
  return `${e?.code ? `${e.code}: ` : ''}${first}`.slice(0, 300);
}
