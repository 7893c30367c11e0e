// `npm run bench`: Tessera against its floors, measured in one run.
// Every load runs in a forked process of its own; each Tessera phase runs right after its
// floor phase, so the noise of this shared machine hits both. See README, "Performance".
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { loadConfig } from '../src/config.js';
import { renderChart } from './chart.js';
import { createBenchDatabase } from './fixtures.js';
import type { HashParams, Job, LoadResult, Seed } from './jobs.js';
import { drainSubscribers, runPhase, runTogether, startLoad } from './phases.js';
import { formatMarkdownTable, formatTable, type BenchResults, type PathResult } from './results.js';
import { seedAccounts } from './seed.js';
import { startTesseraProcess } from './tessera-process.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const READS = 16;
const HASHES = 8;
const AUDIT_WRITERS = 16;
const AUDIT_SUBSCRIBERS = 10;

type TesseraKind = Extract<Job, { seed: Seed }>['kind'];

/** Each path, its load, its floor and issue 11's target ratio. */
const PATHS: {
  name: string;
  kind: TesseraKind;
  concurrency: number;
  floor: 'echo' | 'argon2-hash' | 'argon2-verify';
  target: number | null;
}[] = [
  { name: 'GetProfile', kind: 'get-profile', concurrency: READS, floor: 'echo', target: 0.5 },
  { name: 'IntrospectToken', kind: 'introspect', concurrency: READS, floor: 'echo', target: 0.6 },
  { name: 'RefreshToken', kind: 'refresh', concurrency: READS, floor: 'echo', target: null },
  { name: 'Register', kind: 'register', concurrency: HASHES, floor: 'argon2-hash', target: 0.9 },
  { name: 'ListUsers (page of 50)', kind: 'list-users', concurrency: READS, floor: 'echo', target: null },
  { name: 'Login', kind: 'login', concurrency: HASHES, floor: 'argon2-verify', target: 0.9 },
];

const program = new Command('bench')
  .description("Measures Tessera's paths against floors measured in the same run")
  .option('--quick', 'short phases and one round (under 2 minutes)', false)
  .option('--json', 'print the results as JSON on the last line', false)
  .option('--seconds <n>', 'seconds per phase (default 5, quick 3)', Number)
  .option('--rounds <n>', 'floor/Tessera rounds per path, averaged (default 2, quick 1)', Number)
  .option('--only <paths>', 'comma-separated load kinds to run, e.g. login,get-profile (skips mixed, audit)')
  .option('--cpu-prof <dir>', "write the server process's V8 CPU profile into this folder")
  .option(
    '--server-env <KEY=VALUE...>',
    'extra environment of the server process, e.g. MALLOC_MMAP_THRESHOLD_=1048576 (recorded in the JSON)',
  )
  .option('--from-sources', 'start Tessera from the sources under tsx instead of the production form (dist/)', false)
  .option('--connections <n>', 'HTTP/2 connections each read load spreads over (default 1; >1 to reach several workers)', Number)
  .option('--markdown', 'also print the table as Markdown (for the README)', false)
  .option('--no-write', 'do not write bench/results/latest.{json,svg}')
  .parse();

interface Options {
  quick: boolean;
  json: boolean;
  markdown: boolean;
  serverEnv?: string[];
  seconds?: number;
  rounds?: number;
  only?: string;
  cpuProf?: string;
  connections?: number;
  fromSources: boolean;
  write: boolean;
}

const began = performance.now();
const progress = (msg: string) =>
  process.stderr.write(`bench [${((performance.now() - began) / 1000).toFixed(1).padStart(5)} s]: ${msg}\n`);

/** Averages rounds: mean rate and p50, worst p99, summed counts. */
function combine(runs: LoadResult[]): LoadResult {
  const mean = (f: (r: LoadResult) => number) => runs.reduce((s, r) => s + f(r), 0) / runs.length;
  return {
    calls: runs.reduce((s, r) => s + r.calls, 0),
    errors: runs.reduce((s, r) => s + r.errors, 0),
    firstError: runs.find((r) => r.firstError)?.firstError,
    seconds: runs.reduce((s, r) => s + r.seconds, 0),
    rate: mean((r) => r.rate),
    p50: mean((r) => r.p50),
    p99: Math.max(...runs.map((r) => r.p99)),
  };
}

/** Forks the bare echo server and resolves with its address and a stop function. */
async function startEchoServer(): Promise<{ address: string; stop(): void }> {
  const child = fork(fileURLToPath(new URL('./echo-server.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'] });
  const { port } = await new Promise<{ port: number }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { port: number }));
    child.once('exit', (code) => reject(new Error(`echo server exited with ${code}`)));
  });
  return { address: `127.0.0.1:${port}`, stop: () => child.send('stop') };
}

async function main(opts: Options): Promise<BenchResults> {
  const seconds = opts.seconds ?? (opts.quick ? 3 : 5);
  const rounds = opts.rounds ?? (opts.quick ? 1 : 2);
  const only = opts.only ? new Set(opts.only.split(',').map((s) => s.trim())) : undefined;
  const serverEnv = Object.fromEntries(
    (opts.serverEnv ?? []).map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new Error(`--server-env wants KEY=VALUE, got "${pair}"`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
  const db = await createBenchDatabase();
  const [echo, server] = await Promise.all([
    startEchoServer(),
    startTesseraProcess(db.url, {
      cpuProfDir: opts.cpuProf,
      env: serverEnv,
      form: opts.fromSources ? 'tsx' : 'dist',
    }),
  ]);
  let peakMb = 0;
  const sampler = setInterval(() => (peakMb = Math.max(peakMb, server.memory().peakRssMb)), 500);
  try {
    const config = loadConfig(server.env);
    const params: HashParams = {
      memoryKib: config.argon2.memoryKib,
      timeCost: config.argon2.timeCost,
      parallelism: config.argon2.parallelism,
      maxConcurrent: config.argon2.maxConcurrent,
      pepper: config.secrets.pepper.toString('base64'),
    };
    progress(`Tessera pid ${server.pid} at ${server.address}; echo floor at ${echo.address}; seeding accounts`);
    const seed = await seedAccounts(server.address, READS);
    const bounds = (concurrency: number, perSecond: number) => ({
      concurrency,
      seconds,
      maxCalls: Math.ceil(seconds * perSecond),
      connections: opts.connections,
    });
    const floorJob = (floor: (typeof PATHS)[number]['floor'], concurrency: number): Job =>
      floor === 'echo'
        ? { kind: 'echo', address: echo.address, ...bounds(concurrency, 50_000) }
        : { kind: floor, params, ...bounds(concurrency, 1_000) };
    const tesseraJob = (kind: TesseraKind, concurrency: number, perSecond: number): Job =>
      ({ kind, address: server.address, seed, ...bounds(concurrency, perSecond) }) as Job;

    const paths: PathResult[] = [];
    const floorsByKind = new Map<string, LoadResult[]>();
    for (const path of PATHS.filter((p) => !only || only.has(p.kind))) {
      const floors: LoadResult[] = [];
      const runs: LoadResult[] = [];
      for (let round = 0; round < rounds; round++) {
        progress(`${path.name}: floor (${path.floor}), round ${round + 1}/${rounds}`);
        floors.push(await runPhase(floorJob(path.floor, path.concurrency)));
        progress(`${path.name}: Tessera, round ${round + 1}/${rounds}`);
        const run = await runPhase(tesseraJob(path.kind, path.concurrency, path.floor === 'echo' ? 50_000 : 1_000));
        // A rotated refresh token must not be presented again: the next round continues each chain.
        if (run.refreshTokens) seed.refreshTokens = run.refreshTokens;
        runs.push(run);
      }
      const floor = combine(floors);
      const tessera = combine(runs);
      floorsByKind.set(path.floor, [...(floorsByKind.get(path.floor) ?? []), ...floors]);
      paths.push({
        name: path.name,
        concurrency: path.concurrency,
        tessera,
        floorName: path.floor,
        floor,
        ratio: tessera.rate / floor.rate,
        target: path.target,
      });
      if (tessera.errors) progress(`${path.name}: ${tessera.errors} errors, first: ${tessera.firstError}`);
    }

    let audit: BenchResults['audit'];
    if (!only) {
      progress('mixed: Login and GetProfile at once');
      const [logins, reads] = await runTogether([
        await startLoad(tesseraJob('login', HASHES, 1_000)),
        await startLoad(tesseraJob('get-profile', READS, 50_000)),
      ]);
      const verify = combine(floorsByKind.get('argon2-verify')!);
      const echoFloor = combine(floorsByKind.get('echo')!);
      paths.push(
        {
          name: 'Mixed: Login',
          concurrency: HASHES,
          tessera: logins,
          floorName: 'argon2-verify',
          floor: verify,
          ratio: logins.rate / verify.rate,
          target: 0.5,
        },
        {
          name: 'Mixed: GetProfile',
          concurrency: READS,
          tessera: reads,
          floorName: 'echo',
          floor: echoFloor,
          ratio: reads.rate / echoFloor.rate,
          target: 0.25,
        },
      );

      progress(`audit stream: ${AUDIT_WRITERS} writers, ${AUDIT_SUBSCRIBERS} subscribers`);
      const subscribers = await startLoad({
        kind: 'audit-subscribe',
        address: server.address,
        seed,
        subscribers: AUDIT_SUBSCRIBERS,
        maxWaitSeconds: 30,
      });
      const [writes] = await runTogether([await startLoad(tesseraJob('audit-writes', AUDIT_WRITERS, 20_000))]);
      // Each writer's uncounted warm-up call also committed an event.
      const delivered = await drainSubscribers(subscribers, writes.calls + AUDIT_WRITERS);
      audit = { writers: AUDIT_WRITERS, commitsPerSecond: writes.rate, subscribers: delivered };
    }

    const after = server.memory();
    return {
      startedAt: new Date().toISOString(),
      quick: opts.quick,
      phaseSeconds: seconds,
      rounds,
      serverEnv,
      serverForm: opts.fromSources ? 'tsx' : 'dist',
      machine: {
        cores: availableParallelism(),
        node: process.version,
        uvThreadpoolSize: server.env.UV_THREADPOOL_SIZE ?? 'default (4)',
      },
      argon2: {
        memoryKib: params.memoryKib,
        timeCost: params.timeCost,
        parallelism: params.parallelism,
        maxConcurrent: params.maxConcurrent,
      },
      paths,
      audit,
      rss: { afterMb: after.rssMb, peakMb: Math.max(peakMb, after.peakRssMb) },
    };
  } finally {
    clearInterval(sampler);
    await server.stop();
    echo.stop();
    await db.drop();
  }
}

const opts = program.opts<Options>();
main(opts).then(
  (results) => {
    if (opts.write && !opts.only) {
      mkdirSync(RESULTS_DIR, { recursive: true });
      writeFileSync(`${RESULTS_DIR}latest.json`, JSON.stringify(results, null, 2) + '\n');
      writeFileSync(`${RESULTS_DIR}latest.svg`, renderChart(results));
    }
    process.stdout.write(formatTable(results) + '\n');
    if (opts.markdown) process.stdout.write(formatMarkdownTable(results) + '\n');
    if (opts.json) process.stdout.write(JSON.stringify(results) + '\n');
    process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
    process.exit(1);
  },
);
