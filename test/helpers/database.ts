import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { connectOrm, migrateToLatest } from '../../src/db/index.js';

/** A database made for one test run and dropped after it, with the key store's database beside it. */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** The server whose `postgres` database we create test databases from (CI's, or TEST_DATABASE_ADMIN_URL). */
const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Creates a fresh, uniquely named database on the local PostgreSQL; when none
 * answers, starts an embedded one in a temporary directory instead.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `tessera_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch {
    return createEmbeddedTestDatabase();
  }
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      try {
        // The key store a server made beside it (KEY_DATABASE_URL's default: `<name>_keys`).
        await client.query(`drop database if exists "${name}_keys" with (force)`);
        await client.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

async function createEmbeddedTestDatabase(): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-test-pg-'));
  const port = 55000 + Math.floor(Math.random() * 5000);
  const embedded = await startEmbeddedPostgres(dir, port, () => {});
  return {
    url: embedded.url,
    drop: async () => {
      await embedded.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Applies this version's migrations to `db` the way `tessera start` and `tessera migrate [--post-deploy]` do. */
export async function migrateTestDatabase(db: TestDatabase, options: { postDeploy?: boolean } = {}): Promise<string[]> {
  const orm = await connectOrm(db.url, 2);
  try {
    return await migrateToLatest(orm, options);
  } finally {
    await orm.close();
  }
}
