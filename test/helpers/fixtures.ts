import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { LoginResponse } from '../../src/gen/tessera/v1/auth_service.js';
import type { User } from '../../src/gen/tessera/v1/user.js';
import type { TestDatabase } from './database.js';
import { harness } from './harness.js';
import { call, type TestServer } from './server.js';

export const DEFAULT_PASSWORD = 'a perfectly fine passphrase';

/** An email no other test uses. */
export function uniqueEmail(tag = 'user'): string {
  return `${tag}-${randomBytes(6).toString('hex')}@example.com`;
}

/** Registers a fresh user through the real RPC. */
export async function registerUser(
  options: { email?: string; password?: string; fullName?: string; server?: TestServer } = {},
): Promise<{ user: User; email: string; password: string }> {
  const server = options.server ?? harness().server;
  const email = options.email ?? uniqueEmail();
  const password = options.password ?? DEFAULT_PASSWORD;
  const res = await call(server.auth, 'register', { email, password, fullName: options.fullName ?? 'Test User' });
  return { user: res.user!, email, password };
}

/** Registers and signs in a fresh user. */
export async function signedInUser(
  options: { fullName?: string; server?: TestServer } = {},
): Promise<LoginResponse & { email: string; password: string; accessToken: string; refreshToken: string }> {
  const server = options.server ?? harness().server;
  const { email, password } = await registerUser(options);
  const res = await call(server.auth, 'login', { email, password });
  return { ...res, email, password, accessToken: res.tokens!.accessToken, refreshToken: res.tokens!.refreshToken };
}

/** Runs SQL against the test database (or `db`) directly, for checking what was stored. */
export async function sql<T extends pg.QueryResultRow = Record<string, unknown>>(
  text: string,
  params: unknown[] = [],
  db: TestDatabase = harness().db,
): Promise<T[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}
