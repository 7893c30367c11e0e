import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createTestDatabase, type TestDatabase } from './database.js';
import { beforeBuildingTessera, freePort, tesseraEnv, waitForExit, waitForLine, type ProcessResult } from './process.js';

/** Fresh databases and data folders for `tessera` process tests. */
export interface CliSandbox {
  /** A new empty database and the environment of a `tessera` process on it; `extra` overrides. */
  fresh(extra?: Record<string, string | undefined>): Promise<{ db: TestDatabase; env: NodeJS.ProcessEnv }>;
  /** The environment of a `tessera` process whose database is a closed port on 127.0.0.1 (with a password in the URL). */
  unreachable(extra?: Record<string, string | undefined>): Promise<{ env: NodeJS.ProcessEnv; port: number; password: string }>;
}

/**
 * Inside a `describe`: builds dist/ first, and drops every database and data
 * folder the suite made once it ends.
 */
export function useCliSandbox(): CliSandbox {
  const databases: TestDatabase[] = [];
  const dataDirs: string[] = [];
  beforeBuildingTessera();
  after(async () => {
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    await Promise.all(databases.map((db) => db.drop()));
  });
  const envFor = (url: string, extra: Record<string, string | undefined>) => {
    const env = tesseraEnv(url, extra);
    dataDirs.push(env.TESSERA_DATA_DIR!);
    return env;
  };
  return {
    async fresh(extra = {}) {
      const db = await createTestDatabase();
      databases.push(db);
      return { db, env: envFor(db.url, extra) };
    },
    async unreachable(extra = {}) {
      const port = await freePort();
      const password = 'database-password-never-shown';
      return { env: envFor(`postgres://tessera:${password}@127.0.0.1:${port}/tessera`, extra), port, password };
    },
  };
}

/** What a suite of `tessera` processes shares: one database, and what to clean up after it. */
export interface ProcessSuite {
  /** The suite's database (set before its tests run). */
  db: TestDatabase;
  /** Processes spawned by the tests: killed at the end if still running. */
  children: ChildProcess[];
  /** Data folders of the processes: removed at the end. */
  dataDirs: string[];
  /**
   * Keeps `child` (killed at the end if still running) and waits until it
   * says it listens; `exited` settles when it ends. Bounds are generous: a
   * process starting on a loaded 2-core machine.
   */
  untilListening(child: ChildProcess): Promise<{ child: ChildProcess; exited: Promise<ProcessResult> }>;
}

/**
 * Inside a `describe`: builds dist/ first, makes one database for the suite,
 * and at its end kills the processes still running, removes their data
 * folders and drops the database.
 */
export function useProcessSuite(): ProcessSuite {
  const suite = {
    children: [] as ChildProcess[],
    dataDirs: [] as string[],
    async untilListening(child: ChildProcess) {
      suite.children.push(child);
      const exited = waitForExit(child, 70_000);
      exited.catch(() => {});
      await waitForLine(child, 'tessera listening', 50_000);
      return { child, exited };
    },
  } as ProcessSuite;
  beforeBuildingTessera();
  before(async () => {
    suite.db = await createTestDatabase();
  });
  after(async () => {
    for (const child of suite.children) if (child.exitCode === null) child.kill('SIGKILL');
    for (const dir of suite.dataDirs) rmSync(dir, { recursive: true, force: true });
    await suite.db.drop();
  });
  return suite;
}
