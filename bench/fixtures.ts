// The bench's own fixtures: a fresh database, free ports, promise-shaped unary calls.
// Kept apart from test/ on purpose, so the measurement of record never depends on test helpers.
import { Metadata } from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import pg from 'pg';
import { callUnary } from '../src/client/call-unary.js';

/** Where fresh bench databases are created; BENCH_DATABASE_ADMIN_URL overrides. */
const ADMIN_URL = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A database made for one bench run and dropped after it. */
export interface BenchDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty, uniquely named database on the local PostgreSQL. */
export async function createBenchDatabase(): Promise<BenchDatabase> {
  const name = `tessera_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withAdmin((admin) => admin.query(`create database "${name}"`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => withAdmin((admin) => admin.query(`drop database if exists "${name}" with (force)`)).then(() => undefined),
  };
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Calls a unary method of a generated client as a promise (the package's own typed helper). */
export const unary = callUnary;

/** Metadata carrying `authorization: Bearer <token>`. */
export function bearer(token: string): Metadata {
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}
