import { status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { decodeDetails, type ErrorDetails } from './rpc-errors.js';

/** How one call of a burst ended: OK, or a status with its decoded google.rpc details. */
export interface Outcome {
  ok: boolean;
  /** "OK", or the status name and ErrorInfo reason, e.g. "RESOURCE_EXHAUSTED/TOO_MANY_ATTEMPTS". */
  label: string;
  details?: ErrorDetails;
}

/** Waits for every call of a burst (none rejects the whole) and labels each outcome. */
export async function outcomesOf(calls: Promise<unknown>[]): Promise<Outcome[]> {
  const settled = await Promise.allSettled(calls);
  return settled.map((s) => {
    if (s.status === 'fulfilled') return { ok: true, label: 'OK' };
    const err = s.reason as ServiceError;
    if (typeof err?.code !== 'number') throw s.reason;
    const details = decodeDetails(err);
    const reason = details.errorInfo?.reason;
    return { ok: false, label: reason ? `${status[err.code]}/${reason}` : status[err.code], details };
  });
}

/** How many outcomes carry each label, for readable assertion messages. */
export function tally(outcomes: Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[o.label] = (counts[o.label] ?? 0) + 1;
  return counts;
}

/** The RetryInfo delay of an error, in milliseconds (undefined without RetryInfo). */
function retryDelayMs(details: ErrorDetails | undefined): number | undefined {
  const delay = details?.retryInfo?.retryDelay;
  if (!delay) return undefined;
  return Number(delay.seconds ?? 0) * 1000 + (delay.nanos ?? 0) / 1e6;
}

/**
 * Asserts the shape a per-IP or per-account limit must give a burst: at most
 * `limit` outcomes labelled `allowed`, every other one `refused` with a
 * positive RetryInfo delay, and nothing else.
 */
export function expectLimited(outcomes: Outcome[], allowed: string, refused: string, limit: number): void {
  const counts = tally(outcomes);
  const summary = JSON.stringify(counts);
  expect(counts[allowed] ?? 0, `at most ${limit} ${allowed}; got ${summary}`).to.be.at.most(limit);
  expect((counts[allowed] ?? 0) + (counts[refused] ?? 0), `only ${allowed} or ${refused}; got ${summary}`).to.equal(
    outcomes.length,
  );
  for (const o of outcomes.filter((x) => x.label === refused)) {
    expect(retryDelayMs(o.details), `RetryInfo on ${refused}`).to.be.greaterThan(0);
  }
}
