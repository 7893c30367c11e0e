import pg from 'pg';
import { PgKeyStore } from './key-store.js';

/**
 * The key store's database when KEY_DATABASE_URL is unset: the main
 * database's server, database `<main name>_keys`. Fine for development; in
 * production put it on another server with its own short-lived backups (README, Privacy).
 */
export function defaultKeyDatabaseUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${decodeURIComponent(url.pathname.slice(1))}_keys`;
  return url.toString();
}

/** The key store's schema, one step per version; applied in order, each once. */
const SCHEMA_STEPS: readonly string[] = [
  `create table data_keys (
     user_id uuid primary key,
     key_id text not null,
     wrapped_key text not null,
     master_key_id text not null,
     created_at timestamptz not null);
   create index data_keys_master_key_id_index on data_keys (master_key_id);
   create index data_keys_created_at_index on data_keys (created_at, user_id);
   -- How far the retention job has looked for orphan keys (keys of registrations that rolled back).
   create table orphan_scan_cursor (
     only_row boolean primary key default true check (only_row),
     created_at timestamptz not null,
     user_id uuid not null);`,
];

/** Arbitrary constant naming the advisory lock under which one process at a time migrates the key store. */
const KEY_SCHEMA_LOCK = 0x7e55d0c;

const INVALID_CATALOG_NAME = '3D000';
const DUPLICATE_DATABASE = '42P04';
const UNIQUE_VIOLATION = '23505';

/**
 * Creates the key database if it is missing (two instances starting at once:
 * one creates it, the other finds it) and brings its schema up to date.
 */
async function prepareKeyDatabase(keyDatabaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: keyDatabaseUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (err) {
    if ((err as { code?: string }).code !== INVALID_CATALOG_NAME) throw err;
    await createDatabase(keyDatabaseUrl);
    return prepareKeyDatabase(keyDatabaseUrl);
  }
  try {
    await client.query('select pg_advisory_lock($1)', [KEY_SCHEMA_LOCK]);
    await client.query('create table if not exists key_store_schema (version int primary key, applied_at timestamptz not null)');
    const { rows } = await client.query<{ v: number | null }>('select max(version) as v from key_store_schema');
    for (let version = (rows[0]?.v ?? 0) + 1; version <= SCHEMA_STEPS.length; version++) {
      await client.query('begin');
      try {
        await client.query(SCHEMA_STEPS[version - 1]!);
        await client.query('insert into key_store_schema (version, applied_at) values ($1, now())', [version]);
        await client.query('commit');
      } catch (err) {
        await client.query('rollback');
        throw err;
      }
    }
  } finally {
    // Ending the session releases the lock.
    await client.end();
  }
}

/** CREATE DATABASE through the server's `postgres` database, tolerating a concurrent creation. */
async function createDatabase(keyDatabaseUrl: string): Promise<void> {
  const url = new URL(keyDatabaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await admin.query(`create database ${admin.escapeIdentifier(name)}`);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== DUPLICATE_DATABASE && code !== UNIQUE_VIOLATION) throw err;
  } finally {
    await admin.end();
  }
}

/** The key store at `keyDatabaseUrl`, its database created and migrated first. */
export async function openKeyStore(keyDatabaseUrl: string): Promise<PgKeyStore> {
  await prepareKeyDatabase(keyDatabaseUrl);
  return new PgKeyStore(keyDatabaseUrl);
}
