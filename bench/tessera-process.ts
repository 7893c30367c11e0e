// Tessera as the bench runs it: as production does (scripts/start-production.sh: `node dist/main.js start`
// with its memory defaults; `npm run bench` builds dist/ first), or from the sources under tsx, in a
// process of its own on a fresh database, so its CPU and memory are its own and can be read from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './fixtures.js';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A running server process. */
export interface TesseraProcess {
  address: string;
  pid: number;
  /** The environment it was started with (its configuration). */
  env: NodeJS.ProcessEnv;
  /** Resident memory now and its high-water mark, in MiB. */
  memory(): { rssMb: number; peakRssMb: number };
  /** SIGTERM, then waits for the exit (which also writes a --cpu-prof profile). */
  stop(): Promise<void>;
}

export const BENCH_ADMIN = { email: 'bench-admin@bench.example.com', password: 'bench admin passphrase 123' };

/**
 * Starts Tessera on `databaseUrl`; `cpuProfDir` turns on V8's CPU profiler for the whole process lifetime.
 * `form` 'dist' (the default) runs the production start script, 'tsx' the sources.
 */
export async function startTesseraProcess(
  databaseUrl: string,
  options: { cpuProfDir?: string; env?: Record<string, string>; form?: 'dist' | 'tsx' } = {},
): Promise<TesseraProcess> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: String(port),
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    TESSERA_DATA_DIR: mkdtempSync(join(tmpdir(), 'tessera-bench-data-')),
    TESSERA_PEPPER: randomBytes(32).toString('base64'),
    TESSERA_MASTER_KEY: randomBytes(32).toString('base64'),
    TESSERA_EMAIL_INDEX_KEY: randomBytes(32).toString('base64'),
    TESSERA_BOOTSTRAP_ADMIN_EMAIL: BENCH_ADMIN.email,
    TESSERA_BOOTSTRAP_ADMIN_PASSWORD: BENCH_ADMIN.password,
    // Every load comes from 127.0.0.1; failures are not what is measured.
    LOGIN_MAX_FAILURES_PER_IP: '1000000',
    RATE_LIMIT_REGISTER_PER_IP: '1000000',
    ...(process.env.UV_THREADPOOL_SIZE ? { UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE } : {}),
    ...options.env,
  };
  const profArgs = options.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir] : [];
  // The script execs node itself (same pid) and hands its arguments to node.
  const command =
    options.form === 'tsx'
      ? [process.execPath, ...profArgs, '--import', 'tsx', 'src/main.ts', 'start']
      : ['sh', 'scripts/start-production.sh', ...profArgs];
  const child = spawn(command[0], command.slice(1), {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitForListening(child, Number(env.TESSERA_WORKERS ?? 1));
  const pid = child.pid!;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    address: `127.0.0.1:${port}`,
    pid,
    env,
    memory: () => memoryOf(pid),
    stop: async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Resolves at the "tessera listening" log line of each of `workers` processes; log output after it is
 * read and dropped, as a collector would.
 */
function waitForListening(child: ChildProcess, workers: number): Promise<void> {
  let seen = '';
  let stderr = '';
  let listening = 0;
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Tessera did not start within 60 s:\n${seen}\n${stderr}`)), 60_000);
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString('utf8')).slice(-8000);
      listening += chunk.toString('utf8').split('"tessera listening"').length - 1;
      if (listening >= workers) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Tessera exited with ${code} before listening:\n${seen}\n${stderr}`));
    });
  });
}

function memoryOf(pid: number): { rssMb: number; peakRssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: kib('VmRSS') / 1024, peakRssMb: kib('VmHWM') / 1024 };
}
