import { credentials, Metadata, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import type { NewAuditEvent } from '../../src/db/index.js';
import type { Tessera } from '../../src/server.js';
import { systemOperation, type Operation } from '../../src/domain/kernel/operation.js';
import { inTransaction } from '../../src/domain/kernel/unit-of-work.js';
import type { AuditEvent } from '../../src/gen/tessera/v1/audit_event.js';
import {
  ComplianceServiceClient,
  type StreamAuditEventsRequest,
  type StreamAuditEventsResponse,
} from '../../src/gen/tessera/v1/compliance_service.js';
import { harness } from './harness.js';
import { adminToken } from './fixtures.js';
import { bearer } from './server.js';

/** A ComplianceService client for `address`. */
export function complianceClient(address = harness().server.address): ComplianceServiceClient {
  return new ComplianceServiceClient(address, credentials.createInsecure());
}

/**
 * A StreamAuditEvents call that collects what arrives, with helpers to wait
 * for a number of events or for the end of the stream.
 */
export class CollectedStream {
  readonly events: AuditEvent[] = [];
  error: ServiceError | undefined;
  ended = false;
  readonly call: ClientReadableStream<StreamAuditEventsResponse>;
  private waiters: (() => void)[] = [];

  constructor(client: ComplianceServiceClient, request: StreamAuditEventsRequest, metadata: Metadata, deadline?: Date) {
    this.call = client.streamAuditEvents(request, metadata, deadline ? { deadline } : {});
    this.call.on('data', (msg: StreamAuditEventsResponse) => {
      this.events.push(msg.event!);
      this.notify();
    });
    this.call.on('error', (err: ServiceError) => {
      this.error = err;
      this.notify();
    });
    this.call.on('end', () => {
      this.ended = true;
      this.notify();
    });
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once `predicate` holds, or rejects after `timeoutMs`. */
  async until(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (this.error && !predicate()) throw new Error(`stream failed while waiting for ${what}: ${this.error.message}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; have ${this.events.length} events`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  waitForCount(n: number, timeoutMs = 10_000): Promise<void> {
    return this.until(() => this.events.length >= n, timeoutMs, `${n} events`);
  }

  waitForError(timeoutMs = 10_000): Promise<ServiceError> {
    return this.until(() => this.error !== undefined, timeoutMs, 'the stream to fail').then(() => this.error!);
  }

  cancel(): void {
    this.call.cancel();
  }
}

/** Opens a stream as the bootstrap admin. */
export async function openStream(
  request: Partial<StreamAuditEventsRequest>,
  options: { address?: string; token?: string; deadline?: Date } = {},
): Promise<{ stream: CollectedStream; client: ComplianceServiceClient }> {
  const client = complianceClient(options.address);
  const token = options.token ?? (await adminToken(options.address ?? harness().server));
  const stream = new CollectedStream(
    client,
    { afterEventId: undefined, filter: undefined, ...request },
    bearer(token),
    options.deadline,
  );
  // Let the server register the subscription before the caller writes events.
  await new Promise((resolve) => setTimeout(resolve, 150));
  return { stream, client };
}

/**
 * Writes `count` audit events about `subjectUserId` through the domain's unit
 * of work (one transaction each), `concurrency` transactions at a time.
 */
export async function writeEvents(tessera: Tessera, subjectUserId: string, count: number, concurrency = 1): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const seq = next++;
      await inTransaction(testOperation(tessera, `test-${randomUUID()}`), async (uow) => {
        uow.record({ type: 'email_verification.requested', subjectUserId, metadata: { seq } });
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Asserts-friendly view: the sequence numbers recorded by writeEvents. */
export function sequenceOf(events: AuditEvent[]): number[] {
  return events.map((e) => Number((e.metadata as Record<string, unknown> | undefined)?.seq ?? NaN));
}

/** An operation of the system on `tessera`'s database, for writing audit events the way the service does. */
export function testOperation(tessera: Tessera, requestId: string): Operation {
  return systemOperation(tessera.deps, tessera.orm.em.fork(), requestId);
}

/** A bare audit event about `subjectUserId`, numbered `seq` in its metadata and request id (`<prefix>-<seq>`). */
export function auditEventAbout(subjectUserId: string, seq: number, prefix: string): NewAuditEvent {
  return {
    occurredAt: new Date(),
    type: 'email_verification.requested',
    actorType: 'system',
    actorId: null,
    subjectUserId,
    ip: null,
    userAgent: null,
    requestId: `${prefix}-${seq}`,
    metadata: { seq },
  };
}
