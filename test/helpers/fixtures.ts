import { credentials, type Metadata } from '@grpc/grpc-js';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { AuthServiceClient, type LoginResponse } from '../../src/gen/tessera/v1/auth_service.js';
import { Role, type User } from '../../src/gen/tessera/v1/user.js';
import { defaultKeyDatabaseUrl, type AuditEvent } from '../../src/db/index.js';
import { revealAuditEvents } from '../../src/domain/kernel/audit-personal-data.js';
import type { TestDatabase } from './database.js';
import { harness } from './harness.js';
import { bearer, BOOTSTRAP_ADMIN, call, type TestServer } from './server.js';

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
  return sqlAt<T>(db.url, text, params);
}

/**
 * An access token of the bootstrap administrator, from a test server (default:
 * the shared one) or from any instance by address (e.g. a spawned process).
 */
export async function adminToken(server: TestServer | string = harness().server): Promise<string> {
  if (typeof server !== 'string') return (await call(server.auth, 'login', BOOTSTRAP_ADMIN)).tokens!.accessToken;
  const auth = new AuthServiceClient(server, credentials.createInsecure());
  try {
    return (await call(auth, 'login', BOOTSTRAP_ADMIN)).tokens!.accessToken;
  } finally {
    auth.close();
  }
}

/**
 * Registers a user, gives them `role` and a verified email directly in the
 * database (the RPC way is what the identity tests exercise) and signs them in.
 */
export async function signedInWithRole(
  role: 'user' | 'admin' | 'auditor',
  options: { server?: TestServer } = {},
): Promise<Awaited<ReturnType<typeof signedInUser>>> {
  const server = options.server ?? harness().server;
  const { email, password, user } = await registerUser({ server });
  await sqlOn(server, `update users set role = $1, email_verified_at = now() where id = $2`, [role, user.id]);
  const res = await call(server.auth, 'login', { email, password });
  return { ...res, email, password, accessToken: res.tokens!.accessToken, refreshToken: res.tokens!.refreshToken };
}

/** Creates a service account through the real RPC, as the bootstrap admin; returns it with its API key. */
export async function serviceAccountKey(
  role: Role = Role.ROLE_SERVICE,
  server: TestServer = harness().server,
): Promise<{ id: string; name: string; apiKey: string }> {
  const name = `svc-${randomBytes(6).toString('hex')}`;
  const res = await call(
    server.identity,
    'createServiceAccount',
    { name, role, certificateIdentity: '' },
    bearer(await adminToken(server)),
  );
  return { id: res.serviceAccount!.id, name, apiKey: res.apiKey };
}

/** SQL against the database of `server` (the shared one, or a dedicated test's). */
export async function sqlOn<T extends pg.QueryResultRow = Record<string, unknown>>(
  server: TestServer,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  return sqlAt<T>(server.env.DATABASE_URL, text, params);
}

/** SQL against the key store of `server` (default: the shared one): the users' data keys, table `data_keys`. */
export async function keySql<T extends pg.QueryResultRow = Record<string, unknown>>(
  text: string,
  params: unknown[] = [],
  server: TestServer = harness().server,
): Promise<T[]> {
  return sqlAt<T>(server.env.KEY_DATABASE_URL ?? defaultKeyDatabaseUrl(server.env.DATABASE_URL!), text, params);
}

export async function sqlAt<T extends pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** The audit events one request wrote, in order (send an x-request-id to find them). */
export async function auditEventsOfRequest(requestId: string, server: TestServer = harness().server) {
  return openedAuditRows('request_id = $1', [requestId], server);
}

/** An audit row as stored, with its personal parts opened by the service's keys. */
export interface OpenedAuditRow {
  id: string;
  type: string;
  actor_type: string;
  actor_id: string | null;
  subject_user_id: string | null;
  ip: string | null;
  user_agent: string | null;
  metadata: Record<string, unknown>;
}

/**
 * Audit rows matching `where` (SQL over audit_events), in id order, with ip,
 * user agent and personal metadata opened with `server`'s keys: the stored
 * values are ciphertext under the subject's data key.
 */
export async function openedAuditRows(
  where: string,
  params: unknown[] = [],
  server: TestServer = harness().server,
): Promise<OpenedAuditRow[]> {
  const rows = await sqlOn<OpenedAuditRow>(
    server,
    `select id::text as id, type, actor_type, actor_id, subject_user_id, ip, user_agent, metadata from audit_events where ${where} order by id`,
    params,
  );
  const stored = rows.map(
    (r) =>
      ({ id: r.id, subjectUserId: r.subject_user_id, ip: r.ip, userAgent: r.user_agent, metadata: r.metadata }) as AuditEvent,
  );
  const opened = await revealAuditEvents(server.tessera.orm.em.fork(), server.tessera.deps.userKeys, stored);
  return rows.map((r, i) => ({
    ...r,
    ip: opened[i]!.ip ?? null,
    user_agent: opened[i]!.userAgent ?? null,
    metadata: opened[i]!.metadata,
  }));
}

/** Bearer metadata with an x-request-id, so the audit events of that very call can be found. */
export function traced(token: string): { metadata: Metadata; requestId: string } {
  const requestId = randomUUID();
  const metadata = bearer(token);
  metadata.set('x-request-id', requestId);
  return { metadata, requestId };
}
