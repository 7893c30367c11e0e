import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_EMAIL_INDEX_KEY } from './email-index.js';

/** The project root, where `node dist/main.js` runs. */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The compiled command line, as production runs it (`node dist/main.js`). */
export const TESSERA_MAIN = join(PROJECT_ROOT, 'dist', 'main.js');

let build: Promise<void> | undefined;
let built = false;

/**
 * Compiles src/ into dist/ (`npm run compile`: incremental tsc plus the descriptor
 * set) once per test run, so process tests exercise what production runs.
 * Call it from a `before` hook with a generous timeout.
 */
function buildTessera(): Promise<void> {
  build ??= new Promise<void>((resolve, reject) => {
    execFile('npm', ['run', 'compile', '--silent'], { cwd: PROJECT_ROOT }, (err, stdout, stderr) => {
      if (err) reject(new Error(`npm run compile failed:\n${stdout}${stderr}`));
      else {
        built = true;
        resolve();
      }
    });
  });
  return build;
}

/** A TCP port that was free on 127.0.0.1 a moment ago (the benchmark's, which may not import tests). */
export { freePort } from '../../bench/fixtures.js';

/** The environment of a `tessera` process on `databaseUrl`, with fresh secrets and data folder; `extra` overrides. */
export function tesseraEnv(databaseUrl: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    GRPC_PORT: '0',
    HTTP_PORT: '0',
    LOG_LEVEL: 'info',
    TESSERA_PEPPER: randomBytes(32).toString('base64'),
    TESSERA_MASTER_KEY: randomBytes(32).toString('base64'),
    TESSERA_EMAIL_INDEX_KEY: TEST_EMAIL_INDEX_KEY,
    TESSERA_DATA_DIR: mkdtempSync(join(tmpdir(), 'tessera-cli-data-')),
    ...extra,
  };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  return env;
}

/** Starts `node dist/main.js <args>` in the project root; {@link buildTessera} must have finished. */
export function spawnTessera(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  if (!built) throw new Error('dist/ is not built in this run: await buildTessera() in a before hook');
  return spawn(process.execPath, [TESSERA_MAIN, ...args], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Waits for a process to exit, killing it after `timeoutMs`; collects its output. */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<ProcessResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`process did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    // 'close' comes after 'exit', once stdout and stderr are drained.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs `tessera <args>` to completion, writing `stdin` (then closing it). */
export async function runTessera(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { stdin?: string; timeoutMs?: number } = {},
): Promise<ProcessResult> {
  await buildTessera();
  const child = spawnTessera(args, env);
  const result = waitForExit(child, options.timeoutMs ?? 20_000);
  child.stdin!.end(options.stdin ?? '');
  return result;
}

/** Resolves once the child's stdout has shown `text`. */
export function waitForLine(child: ChildProcess, text: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no "${text}" within ${timeoutMs} ms:\n${seen}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      if (seen.includes(text)) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before "${text}":\n${seen}`));
    });
  });
}

/** Inside a `describe`: builds dist/ before its tests run (once per test run, see {@link buildTessera}). */
export function beforeBuildingTessera(): void {
  before(async function () {
    this.timeout(180_000);
    await buildTessera();
  });
}
