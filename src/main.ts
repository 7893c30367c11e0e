import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { importUsersFromFile } from './cli/import-users.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { startEmbeddedPostgres } from './db/embedded.js';
import { connectOrm, migrateToLatest, type Orm } from './db/index.js';
import { createAdmin } from './domain/accounts.js';
import { createServiceAccount, SERVICE_ACCOUNT_ROLES } from './domain/service-accounts.js';
import { systemContext } from './domain/context.js';
import type { DomainDeps } from './domain/deps.js';
import { DomainError } from './domain/errors.js';
import { createLogger, type Logger } from './logger.js';
import { buildDomain, startTessera } from './server.js';
import { systemClock } from './clock.js';

const USAGE = `usage: tessera <command>

commands:
  start                      run the gRPC service (default)
  migrate                    apply pending database migrations and exit
  create-admin --email E     create an administrator; the password is read from stdin
  import-users FILE.jsonl    import users with bcrypt, argon2 or PBKDF2 hashes (one JSON object a line)
  rotate-signing-key [--now] promote the published next signing key and publish a new next key
                             (--now: even if the next key was published less than the propagation delay ago)
  create-service-account --name N [--role service|auditor|admin] [--certificate-identity URI]
                             create a service account; prints its API key once, on stdout
`;

async function main(argv: string[]): Promise<number> {
  const [command = 'start', ...rest] = argv;
  const log = createLogger(process.env.LOG_LEVEL ?? 'info');
  let config: Config;
  try {
    config = loadConfig(process.env, (msg) => log.warn(msg));
  } catch (err) {
    if (err instanceof ConfigError) {
      log.fatal(err.message);
      return 2;
    }
    throw err;
  }
  switch (command) {
    case 'start':
      return runServer(config, log);
    case 'migrate':
      return withDatabase(config, log, async (_orm, applied) => {
        log.info({ migrations: applied }, applied.length ? 'migrations applied' : 'database already up to date');
        return 0;
      });
    case 'create-admin':
      return createAdminCommand(config, log, rest);
    case 'import-users':
      return importUsersCommand(config, log, rest);
    case 'rotate-signing-key':
      return rotateSigningKeyCommand(config, log, rest);
    case 'create-service-account':
      return createServiceAccountCommand(config, log, rest);
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(USAGE);
      return 2;
  }
}

async function runServer(config: Config, log: Logger): Promise<number> {
  const tessera = await startTessera(config, { log, processMetrics: true });
  // SIGHUP re-reads the TLS files (they are also watched); live connections stay.
  const reload = () => {
    try {
      if (!tessera.reloadCertificates()) log.info('SIGHUP: TLS files unchanged (or TLS off)');
    } catch (err) {
      log.error({ err }, 'SIGHUP: TLS files could not be loaded; the previous certificate stays');
    }
  };
  process.on('SIGHUP', reload);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down: draining in-flight calls');
      tessera.shutdown().then(resolve, resolve);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  process.off('SIGHUP', reload);
  return 0;
}

/**
 * Runs `work` against the configured (or embedded) database, migrated, then
 * closes it. `applied` names the migrations this run applied.
 */
async function withDatabase(
  config: Config,
  log: Logger,
  work: (orm: Orm, applied: string[]) => Promise<number>,
): Promise<number> {
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres(config.dataDir, config.embeddedPostgresPort, (m) => log.warn(m));
  const orm = await connectOrm(config.databaseUrl ?? embedded!.url);
  try {
    const applied = await migrateToLatest(orm);
    return await work(orm, applied);
  } finally {
    await orm.close();
    await embedded?.stop();
  }
}

async function createAdminCommand(config: Config, log: Logger, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { email: { type: 'string' } } });
  if (!values.email) {
    process.stderr.write('create-admin needs --email E (the password is read from stdin)\n');
    return 2;
  }
  const password = (await readStdin()).replace(/\r?\n$/, '');
  return withDomain(config, log, 'create-admin', async (deps, orm) => {
    const user = await createAdmin(deps, orm.em.fork(), systemContext('cli'), { email: values.email!, password });
    log.info({ userId: user.id, email: user.email }, 'administrator created');
  });
}

async function createServiceAccountCommand(config: Config, log: Logger, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      name: { type: 'string' },
      role: { type: 'string', default: 'service' },
      'certificate-identity': { type: 'string' },
    },
  });
  if (!values.name) {
    process.stderr.write(
      `create-service-account needs --name N (and optionally --role ${SERVICE_ACCOUNT_ROLES.join('|')}, --certificate-identity URI)\n`,
    );
    return 2;
  }
  return withDomain(config, log, 'create-service-account', async (deps, orm) => {
    const input = { name: values.name!, role: values.role!, certificateIdentity: values['certificate-identity'] };
    const { serviceAccount, apiKey } = await createServiceAccount(deps, orm.em.fork(), systemContext('cli'), input);
    log.info(
      {
        serviceAccountId: serviceAccount.id,
        name: serviceAccount.name,
        role: serviceAccount.role,
        apiKeyPrefix: serviceAccount.apiKeyPrefix,
        certificateIdentity: serviceAccount.certificateIdentity ?? undefined,
      },
      'service account created',
    );
    // The only place the key is ever shown: stdout, alone on its line, so scripts can capture it.
    process.stdout.write(`${apiKey}\n`);
  });
}

/** Runs a CLI command that needs the domain; a DomainError becomes a message on stderr and exit code 1. */
async function withDomain(
  config: Config,
  log: Logger,
  command: string,
  work: (deps: DomainDeps, orm: Orm) => Promise<void>,
): Promise<number> {
  return withDatabase(config, log, async (orm) => {
    const deps = await buildDomain(config, orm, systemClock);
    try {
      await work(deps, orm);
      return 0;
    } catch (err) {
      if (err instanceof DomainError) {
        const detail = err.violations.map((v) => `${v.field} ${v.description}`).join('; ');
        process.stderr.write(`${command}: ${err.message}${detail ? ` (${detail})` : ''}\n`);
        return 1;
      }
      throw err;
    }
  });
}

async function importUsersCommand(config: Config, log: Logger, args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true });
  const file = positionals[0];
  if (!file || positionals.length > 1 || !existsSync(file)) {
    process.stderr.write('import-users needs one existing FILE.jsonl\n');
    return 2;
  }
  return withDatabase(config, log, async (orm) => {
    const deps = await buildDomain(config, orm, systemClock);
    const outcome = await importUsersFromFile(deps, () => orm.em.fork(), systemContext('cli'), file, process);
    log.info({ imported: outcome.imported, skipped: outcome.skipped, failed: outcome.problems.length }, 'import finished');
    return outcome.problems.length > 0 ? 1 : 0;
  });
}

async function rotateSigningKeyCommand(config: Config, log: Logger, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { now: { type: 'boolean', default: false } } });
  return withDatabase(config, log, async (orm) => {
    const deps = await buildDomain(config, orm, systemClock);
    const result = await deps.signingKeys.rotate(orm.em.fork(), systemContext('cli'), { immediate: values.now === true });
    if (result.promoted) {
      log.info({ activeKid: result.activeKid, retiredKid: result.retiredKid, nextKid: result.nextKid }, 'signing key rotated');
      process.stdout.write(`active ${result.activeKid}\nretired ${result.retiredKid}\nnext ${result.nextKid}\n`);
    } else {
      log.info(
        { activeKid: result.activeKid, nextKid: result.nextKid, promotableAt: result.promotableAt },
        'next key published; not yet promoted',
      );
      process.stdout.write(
        `next key ${result.nextKid} is published but too recent to sign; run again after ${result.promotableAt!.toISOString()} or use --now\n`,
      );
    }
    return 0;
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`tessera: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
