import type { ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import { DomainError } from '../domain/kernel/errors.js';

/** A call of either shape; both can be cancelled and have a deadline. */
export type AnyCall = ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>;

/** A call's abort signal, and how to release what watches the call once it has ended. */
export interface CallSignal {
  /** Aborted when the client cancels, the deadline passes or (for long-lived calls) the server shuts down. */
  signal: AbortSignal;
  dispose(): void;
}

/**
 * grpc-js keeps running a handler after the client went away or the deadline
 * passed; this signal lets the handler's work stop too. Long-lived calls
 * (streams) also stop when the server shuts down, so clients resume elsewhere.
 */
export function createCallSignal(call: AnyCall, shutdown?: AbortSignal): CallSignal {
  const controller = new AbortController();
  const onCancel = () => controller.abort(new DomainError('cancelled', 'RPC-010', 'the call was cancelled'));
  const onShutdown = () =>
    controller.abort(
      new DomainError('unavailable', 'RPC-012', 'the server is shutting down; retry on another instance', {
        reason: 'SHUTTING_DOWN',
      }),
    );
  call.once('cancelled', onCancel);
  if (shutdown?.aborted) onShutdown();
  else shutdown?.addEventListener('abort', onShutdown, { once: true });
  const ms = (deadlineOf(call) ?? Infinity) - Date.now();
  const timer = Number.isFinite(ms)
    ? setTimeout(() => controller.abort(new DomainError('deadline_exceeded', 'RPC-011', 'the deadline passed')), Math.max(0, ms))
    : undefined;
  return {
    signal: controller.signal,
    dispose: () => {
      if (timer) clearTimeout(timer);
      call.removeListener('cancelled', onCancel);
      shutdown?.removeEventListener('abort', onShutdown);
    },
  };
}

/** When the client stops waiting for the call (epoch milliseconds), or undefined without a deadline. */
export function deadlineOf(call: AnyCall): number | undefined {
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : Number(deadline);
  return Number.isFinite(at) ? at : undefined;
}
