import { MikroORM, PostgreSqlDriver, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { ALL_ENTITIES } from './entities/index.js';
import { MIGRATIONS } from './migrations/index.js';

export type Orm = MikroORM;

/** The ORM options for a database URL; shared by the server, the CLI and mikro-orm.config.ts. */
export function ormOptions(databaseUrl: string): Options {
  return {
    driver: PostgreSqlDriver,
    clientUrl: databaseUrl,
    entities: ALL_ENTITIES,
    extensions: [Migrator],
    // The global EntityManager must never be used by requests: each forks its own.
    allowGlobalContext: false,
    forceUtcTimezone: true,
    pool: { min: 0, max: 10 },
    // During an outage calls must fail fast (UNAVAILABLE), not queue for knex's default 60 s.
    driverOptions: { acquireConnectionTimeout: 5000, connection: { connectionTimeoutMillis: 5000 } },
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

/** Connects to PostgreSQL. */
export async function connectOrm(databaseUrl: string): Promise<Orm> {
  return MikroORM.init(ormOptions(databaseUrl));
}

/** Applies pending migrations; returns the names applied. */
export async function migrateToLatest(orm: Orm): Promise<string[]> {
  const applied = await orm.getMigrator().up();
  return applied.map((m) => m.name);
}
