// `npm run bench:export`: exports a user with 100,000 audit events through
// ExportUserData and reports the time and the growth of the process's RSS
// (server and client share the process here; the client keeps nothing).
// Fails when the RSS grows by 50 MB or more.
import { credentials, Metadata } from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { callUnary as call } from '../src/client/call-unary.js';
import { loadConfig } from '../src/config.js';
import { AuthServiceClient } from '../src/gen/tessera/v1/auth_service.js';
import { ComplianceServiceClient, type ExportUserDataResponse } from '../src/gen/tessera/v1/compliance_service.js';
import { createLogger } from '../src/logger.js';
import { startTessera, type Tessera } from '../src/server.js';

const EVENTS = Number(process.env.BENCH_EXPORT_EVENTS ?? 100_000);
const MAX_GROWTH_MB = 50;

const ADMIN_URL = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh database and a Tessera on loopback for `body`, both removed afterwards. */
async function withServer(body: (tessera: Tessera, databaseUrl: string) => Promise<void>): Promise<void> {
  const name = `tessera_bench_export_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const databaseUrl = Object.assign(new URL(ADMIN_URL), { pathname: `/${name}` }).toString();
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  const secret = () => randomBytes(32).toString('base64');
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    TESSERA_DATA_DIR: dataDir,
    GRPC_PORT: '0',
    HTTP_PORT: '0',
    TESSERA_PEPPER: secret(),
    TESSERA_MASTER_KEY: secret(),
    TESSERA_EMAIL_INDEX_KEY: secret(),
  });
  const tessera = await startTessera(config, { log: createLogger('warn') });
  try {
    await body(tessera, databaseUrl);
  } finally {
    await tessera.shutdown();
    await admin.query(`drop database ${name} with (force)`);
    await admin.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await withServer(async (tessera, databaseUrl) => {
  const address = `127.0.0.1:${tessera.grpcPort}`;
  const auth = new AuthServiceClient(address, credentials.createInsecure());
  const email = `export-bench-${Date.now()}@example.com`;
  const password = 'export bench passphrase';
  await call(auth, 'register', { email, password, fullName: 'Export Bench' });
  const login = await call(auth, 'login', { email, password });
  const userId = login.user!.id;
  const db = new pg.Client({ connectionString: databaseUrl });
  db.on('error', () => {});
  await db.connect();
  await db.query(
    `insert into audit_events (occurred_at, type, actor_type, actor_id, subject_user_id, request_id, metadata)
     select now(), 'token.refreshed', 'user', $1::text, $1::uuid, 'bench-' || g, jsonb_build_object('session_id', gen_random_uuid())
       from generate_series(1, $2) g`,
    [userId, EVENTS],
  );
  await db.end();
  global.gc?.();

  const md = new Metadata();
  md.set('authorization', `Bearer ${login.tokens!.accessToken}`);
  const client = new ComplianceServiceClient(address, credentials.createInsecure());
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 25);
  const started = performance.now();
  let parts = 0;
  await new Promise<void>((resolve, reject) => {
    const stream = client.exportUserData({ userId: '' }, md);
    stream.on('data', (_: ExportUserDataResponse) => parts++);
    stream.on('error', reject);
    stream.on('end', resolve);
  });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  client.close();
  auth.close();
  const growthMb = (peak - before) / 1024 / 1024;
  process.stdout.write(
    `export: ${parts} parts (${EVENTS} extra audit events) in ${seconds.toFixed(2)} s ` +
      `(${Math.round(parts / seconds)} parts/s); RSS ${Math.round(before / 1048576)} MB -> peak ${Math.round(peak / 1048576)} MB, ` +
      `growth ${growthMb.toFixed(1)} MB (limit ${MAX_GROWTH_MB})\n`,
  );
  if (growthMb >= MAX_GROWTH_MB) throw new Error(`RSS grew by ${growthMb.toFixed(1)} MB during the export`);
});
