import { inSpan } from '../telemetry/spans.js';

/** Raised when a caller waited longer than allowed for a permit. */
export class SemaphoreTimeoutError extends Error {
  constructor() {
    super('timed out waiting for a permit');
  }
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Bounds how many expensive operations run at once.
 *
 * Password hashing saturates the CPU and the libuv pool; without a bound,
 * a burst of logins starves every other request (see FIELD-NOTES).
 */
export class Semaphore {
  private available: number;
  private readonly queue: Waiter[] = [];

  /** `waitSpanName`, when given, names the trace span of each wait for a permit (where load shows first). */
  constructor(
    permits: number,
    private readonly waitSpanName?: string,
  ) {
    this.available = permits;
  }

  /**
   * Runs `work` once a permit is free, waiting at most `timeoutMs` (and never
   * past `signal`). A caller that gave up (`signal` aborted) by the time its
   * turn comes gets the abort reason, and its work never runs.
   */
  async run<T>(work: () => Promise<T>, timeoutMs: number, signal?: AbortSignal): Promise<T> {
    if (this.waitSpanName) {
      const ahead = { 'tessera.queue.ahead': this.queue.length };
      await inSpan(this.waitSpanName, ahead, () => this.acquire(timeoutMs, signal));
    } else {
      await this.acquire(timeoutMs, signal);
    }
    try {
      signal?.throwIfAborted();
      return await work();
    } finally {
      this.release();
    }
  }

  private acquire(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.available > 0) {
      this.available--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => {
          cleanup();
          resolve();
        },
        reject: (err) => {
          cleanup();
          reject(err);
        },
      };
      const timer = setTimeout(() => this.abandon(waiter, new SemaphoreTimeoutError()), timeoutMs);
      const onAbort = () => this.abandon(waiter, signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      this.queue.push(waiter);
    });
  }

  private abandon(waiter: Waiter, reason: unknown): void {
    const index = this.queue.indexOf(waiter);
    if (index >= 0) {
      this.queue.splice(index, 1);
      waiter.reject(reason);
    }
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) next.resolve();
    else this.available++;
  }
}
