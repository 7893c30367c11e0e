import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import pg from 'pg';
import { ALL_ENTITIES } from './entities/index.js';
import { MIGRATIONS, POST_DEPLOY_MIGRATIONS } from './migrations/index.js';
import { TracedPostgreSqlDriver } from './traced-driver.js';

export type Orm = MikroORM;

/**
 * How long a statement waits for a lock (PostgreSQL `lock_timeout`) before it
 * fails. Tessera's own transactions hold locks for milliseconds; a longer wait
 * is a stuck or foreign session, and waiting it out would hold a pool
 * connection per call until every call, related or not, queues behind it.
 */
export const DATABASE_LOCK_TIMEOUT_MS = 2000;

/** The ORM options for a database URL; shared by the server, the CLI and mikro-orm.config.ts. */
export function ormOptions(databaseUrl: string): Options {
  return {
    driver: TracedPostgreSqlDriver,
    clientUrl: databaseUrl,
    entities: ALL_ENTITIES,
    extensions: [Migrator],
    // The global EntityManager must never be used by requests: each forks its own.
    allowGlobalContext: false,
    forceUtcTimezone: true,
    pool: { min: 0, max: 10 },
    // During an outage calls must fail fast (UNAVAILABLE), not queue for knex's default 60 s.
    driverOptions: {
      acquireConnectionTimeout: 5000,
      connection: { connectionTimeoutMillis: 5000, lock_timeout: DATABASE_LOCK_TIMEOUT_MS },
    },
    migrations: {
      tableName: 'mikro_orm_migrations',
      path: 'src/db/migrations',
      emit: 'ts',
      migrationsList: MIGRATIONS,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
    },
    schemaGenerator: { disableForeignKeys: false },
  };
}

/** Connects to PostgreSQL; `poolMax` overrides the pool's size (tools that need one connection per worker). */
export async function connectOrm(databaseUrl: string, poolMax?: number): Promise<Orm> {
  const options = ormOptions(databaseUrl);
  return MikroORM.init(poolMax === undefined ? options : { ...options, pool: { min: 0, max: poolMax } });
}

/** Arbitrary constant naming the advisory lock that lets one process at a time migrate. */
const MIGRATIONS_LOCK = 0x7e55d0b;

/**
 * Applies pending migrations; returns the names applied. Instances starting
 * together (or `tessera migrate` beside `tessera start`) would race to create
 * the same tables, so they take turns under a session advisory lock, held on a
 * connection of its own because the ORM's pool may run each statement on another.
 *
 * Post-deploy migrations (POST_DEPLOY_MIGRATIONS: they drop what an older
 * version still reads) wait for `postDeploy`, except on a fresh database,
 * which no older instance can be using.
 */
export async function migrateToLatest(orm: Orm, { postDeploy = false } = {}): Promise<string[]> {
  const lock = new pg.Client({ connectionString: orm.config.get('clientUrl'), connectionTimeoutMillis: 5000 });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATIONS_LOCK]);
    const migrator = orm.getMigrator();
    const fresh = (await migrator.getExecutedMigrations()).length === 0;
    const pending = (await migrator.getPendingMigrations())
      .map((m) => m.name)
      .filter((name) => postDeploy || fresh || !POST_DEPLOY_MIGRATIONS.has(name));
    if (pending.length === 0) return [];
    const applied = await migrator.up({ migrations: pending });
    return applied.map((m) => m.name);
  } finally {
    // Ending the session releases the lock.
    await lock.end();
  }
}
