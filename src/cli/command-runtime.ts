import { ConfigError, loadConfig, type Config } from '../config.js';
import { startEmbeddedPostgres } from '../db/embedded.js';
import {
  connectOrm,
  defaultKeyDatabaseUrl,
  isDatabaseUnavailable,
  migrateToLatest,
  moveLegacyUserKeys,
  openKeyStore,
  type Orm,
  type PgKeyStore,
} from '../db/index.js';
import { systemOperation, type Operation } from '../domain/kernel/operation.js';
import { buildDomain } from '../domain-dependencies.js';
import { sealClearEmails } from '../domain/compliance/email-sealing.js';
import { sealClearProfileFields } from '../domain/compliance/profile-sealing.js';
import { sealClearProviderSubjects } from '../domain/compliance/provider-subject-sealing.js';
import { systemClock } from '../clock.js';
import type { CliContext } from './cli-context.js';
import { CliError, ExitCode } from './exit-codes.js';

/** Reads the configuration from the environment; an invalid one is a usage error (exit 2), as nothing was attempted. */
export function loadCliConfig({ io, log }: CliContext): Config {
  try {
    return loadConfig(io.env, (msg) => log.warn(msg));
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(ExitCode.usage, err.message);
    throw err;
  }
}

/**
 * Runs `work` against the configured (or embedded) database and the key
 * store, both migrated (and the data keys moved out of the main database, as
 * at start-up), then closes them. `applied` names the migrations this run
 * applied. A database that cannot be reached ends the command with exit code 3.
 */
export async function withDatabase<T>(
  config: Config,
  { log }: CliContext,
  work: (orm: Orm, applied: string[], keyStore: PgKeyStore) => Promise<T>,
): Promise<T> {
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres(config.dataDir, config.embeddedPostgresPort, (m) => log.warn(m));
  const url = config.databaseUrl ?? embedded!.url;
  try {
    const orm = await connectOrm(url);
    try {
      const applied = await migrateToLatest(orm);
      const keyStore = await openKeyStore(config.keyDatabaseUrl ?? defaultKeyDatabaseUrl(url));
      try {
        await moveLegacyUserKeys(orm.em.fork(), keyStore);
        return await work(orm, applied, keyStore);
      } finally {
        await keyStore.close();
      }
    } finally {
      await orm.close();
    }
  } catch (err) {
    throw unreachableOr(err, url);
  } finally {
    await embedded?.stop();
  }
}

/**
 * `withDatabase` plus the domain: `work` gets a maker of operations acting as
 * the system (one fresh EntityManager each), as the RPCs get theirs per call.
 */
export async function withDomain<T>(
  config: Config,
  context: CliContext,
  work: (newOperation: () => Operation) => Promise<T>,
): Promise<T> {
  return withDatabase(config, context, async (orm, _applied, keyStore) => {
    const deps = await buildSealedDomain(config, orm, keyStore);
    return work(() => systemOperation(deps, orm.em.fork(), 'cli'));
  });
}

/** The domain over a migrated database, after sealing any address or profile field still in clear (as at start-up). */
export async function buildSealedDomain(config: Config, orm: Orm, keyStore: PgKeyStore) {
  const deps = await buildDomain(config, orm, systemClock, keyStore);
  // The commands find accounts by the email blind index only.
  await sealClearEmails(systemOperation(deps, orm.em.fork(), 'cli'));
  // The commands read profiles as sealed only (the export does).
  await sealClearProfileFields(systemOperation(deps, orm.em.fork(), 'cli'));
  await sealClearProviderSubjects(systemOperation(deps, orm.em.fork(), 'cli'));
  return deps;
}

/** Turns "the database is not there" into exit code 3, naming where it was looked for (never the credentials). */
export function unreachableOr(err: unknown, databaseUrl: string | undefined): unknown {
  if (!isDatabaseUnavailable(err)) return err;
  const where = databaseUrl ? ` at ${new URL(databaseUrl).host}` : '';
  const code = (err as { code?: unknown }).code;
  return new CliError(ExitCode.databaseUnreachable, `could not reach the database${where}${code ? ` (${code})` : ''}`, {
    cause: err,
  });
}
