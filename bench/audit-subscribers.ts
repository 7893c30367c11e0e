// The subscriber side of the audit stream phase: N live StreamAuditEvents calls in one process,
// counting deliveries and the time from an event's occurred_at to its arrival.
import type { ClientReadableStream } from '@grpc/grpc-js';
import type { ComplianceServiceClient, StreamAuditEventsResponse } from '../src/gen/tessera/v1/compliance_service.js';
import { bearer } from './fixtures.js';
import { quantile, type Job, type LoadMessage } from './jobs.js';

/** The stream is treated as drained once nothing arrived for this long. */
const QUIET_MS = 1500;
/** Streams get this long to reach the live edge before writers start. */
const SETTLE_MS = 500;

/**
 * Opens the subscriptions, says 'ready', and after a `{ drain: expected }` message
 * waits until every stream has `expected` events (or went quiet), then reports.
 */
export async function subscribeToAudit(
  client: ComplianceServiceClient,
  job: Extract<Job, { kind: 'audit-subscribe' }>,
  send: (message: LoadMessage) => void,
): Promise<void> {
  const md = bearer(job.seed.adminToken);
  const latencies: number[] = [];
  const counts = new Array<number>(job.subscribers).fill(0);
  const lastIds = new Array<bigint>(job.subscribers).fill(-1n);
  let inOrder = true;
  let firstArrival = 0;
  let lastArrival = 0;
  const streams: ClientReadableStream<StreamAuditEventsResponse>[] = [];
  for (let i = 0; i < job.subscribers; i++) {
    const stream = client.streamAuditEvents({ filter: undefined }, md);
    stream.on('data', (msg: StreamAuditEventsResponse) => {
      const now = Date.now();
      const event = msg.event!;
      const id = BigInt(event.id);
      if (id <= lastIds[i]) inOrder = false;
      lastIds[i] = id;
      counts[i]++;
      firstArrival ||= now;
      lastArrival = now;
      latencies.push(now - event.occurredAt!.getTime());
    });
    stream.on('error', () => undefined);
    streams.push(stream);
  }
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  send({ type: 'ready' });
  const expected = await new Promise<number>((resolve) => {
    process.once('message', (msg: { drain: number }) => resolve(msg.drain));
  });
  const giveUp = Date.now() + job.maxWaitSeconds * 1000;
  while (Date.now() < giveUp && counts.some((c) => c < expected) && Date.now() - lastArrival < QUIET_MS) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  for (const stream of streams) stream.cancel();
  latencies.sort((a, b) => a - b);
  const delivered = counts.reduce((a, b) => a + b, 0);
  send({
    type: 'subscribed',
    result: {
      subscribers: job.subscribers,
      delivered,
      rate: lastArrival > firstArrival ? delivered / ((lastArrival - firstArrival) / 1000) : 0,
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      inOrder,
      complete: counts.every((c) => c >= expected),
    },
  });
}
