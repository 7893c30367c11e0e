// `npm run bench:export`: exports a user with 100,000 audit events through
// ExportUserData and reports the time and the growth of the process's RSS
// (server and client share the process here; the client keeps nothing).
// Fails when the RSS grows by 50 MB or more.
import { Metadata } from '@grpc/grpc-js';
import pg from 'pg';
import type { ExportUserDataResponse } from '../src/gen/tessera/v1/compliance_service.js';
import { runBench } from './bench-server.js';
import { call } from '../test/helpers/server.js';
import { complianceClient } from '../test/helpers/audit.js';

const EVENTS = Number(process.env.BENCH_EXPORT_EVENTS ?? 100_000);
const MAX_GROWTH_MB = 50;

runBench('export bench', async (server) => {
  const email = `export-bench-${Date.now()}@example.com`;
  const password = 'export bench passphrase';
  await call(server.auth, 'register', { email, password, fullName: 'Export Bench' });
  const login = await call(server.auth, 'login', { email, password });
  const userId = login.user!.id;
  const db = new pg.Client({ connectionString: server.env.DATABASE_URL });
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
  const client = complianceClient(server.address);
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
  const growthMb = (peak - before) / 1024 / 1024;
  process.stdout.write(
    `export: ${parts} parts (${EVENTS} extra audit events) in ${seconds.toFixed(2)} s ` +
      `(${Math.round(parts / seconds)} parts/s); RSS ${Math.round(before / 1048576)} MB -> peak ${Math.round(peak / 1048576)} MB, ` +
      `growth ${growthMb.toFixed(1)} MB (limit ${MAX_GROWTH_MB})\n`,
  );
  if (growthMb >= MAX_GROWTH_MB) throw new Error(`RSS grew by ${growthMb.toFixed(1)} MB during the export`);
});
