import type { TestDatabase } from './database.js';
import type { TestServer } from './server.js';

/** The database and server shared by the behaviour tests of one run (see root-hooks.ts). */
export interface Harness {
  db: TestDatabase;
  server: TestServer;
}

let current: Harness | undefined;

export function setHarness(harness: Harness | undefined): void {
  current = harness;
}

/** The shared harness; tests stay independent by using their own users (see fixtures.ts). */
export function harness(): Harness {
  if (!current) throw new Error('the test harness is not running');
  return current;
}
