import { Server } from '@grpc/grpc-js';
import { type Logger } from './logger.js';
import type { HttpListener } from './tls/http-listener.js';

// Pieces of start-up and shutdown the composition root (src/server.ts) strings together.

/** Undo steps of a start-up, run last-in first-out: on shutdown, or when start-up fails half-way. */
export class Teardown {
  private readonly steps: (() => unknown)[] = [];
  add(step: () => unknown): void {
    this.steps.push(step);
  }
  async run(log: Logger): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (err) {
        log.error({ err }, 'shutdown step failed');
      }
    }
  }
}

/**
 * Runs `task` now, or once more after the current run when called during
 * one: a burst of wake-ups costs at most two runs, and the last sees everything.
 */
export function coalesced(task: () => Promise<void>): () => void {
  let running = false;
  let again = false;
  const run = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    void task().finally(() => {
      running = false;
      if (again) {
        again = false;
        run();
      }
    });
  };
  return run;
}

/** Lets in-flight calls finish; after the grace period, cuts what is left (open streams never end on their own). */
export function drain(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A listen address as a URL host: IPv6 in brackets, the wildcard addresses as loopback. */
export function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export function closeHttp(server: HttpListener): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
