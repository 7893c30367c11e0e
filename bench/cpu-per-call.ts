// `npm run bench:cpu -- --only login,get-profile`: the server process's CPU time per call of each path.
// Throughput on a shared machine moves with the neighbours; CPU seconds spent per call do not (much).
// Reads utime+stime of the server from /proc before and after N calls, minus what it burns idle
// (background jobs); for credential paths also prints the raw argon2 CPU per hash/verify to subtract.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import argon2 from 'argon2';
import { loadConfig } from '../src/config.js';
import { createBenchDatabase } from './fixtures.js';
import type { Job } from './jobs.js';
import { runPhase } from './phases.js';
import { seedAccounts } from './seed.js';
import { startTesseraProcess } from './tessera-process.js';

const CALLS: Record<string, number> = {
  login: 300,
  register: 300,
  'get-profile': 4000,
  introspect: 4000,
  refresh: 1500,
  'list-users': 500,
};

const program = new Command('bench:cpu')
  .description("Server CPU time per call of each path (from /proc), with argon2's own cost for reference")
  .option('--only <paths>', 'comma-separated load kinds', 'login,register,get-profile,introspect')
  .option('--concurrency <n>', 'calls in flight', Number, 4)
  .option('--scale <x>', 'multiply the call counts', Number, 1)
  .option('--cpu-prof <dir>', "write the server process's V8 CPU profile into this folder")
  .option('--server-env <KEY=VALUE...>', 'extra environment of the server process')
  .option('--from-sources', 'start Tessera from the sources under tsx instead of the production form (dist/)', false)
  .parse();

const opts = program.opts<{
  only: string;
  concurrency: number;
  scale: number;
  cpuProf?: string;
  serverEnv?: string[];
  fromSources: boolean;
}>();
const TICKS_PER_SECOND = 100;

/** utime + stime of a process, in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

async function argon2CpuMs(params: { memoryKib: number; timeCost: number; parallelism: number; pepper: Buffer }) {
  const options = {
    type: argon2.argon2id,
    memoryCost: params.memoryKib,
    timeCost: params.timeCost,
    parallelism: params.parallelism,
    secret: params.pepper,
  };
  const hash = await argon2.hash('warm up', options);
  const n = 20;
  let before = process.cpuUsage();
  for (let i = 0; i < n; i++) await argon2.hash(`password ${i}`, options);
  const used = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000 / n;
  const hashMs = used(process.cpuUsage(before));
  before = process.cpuUsage();
  for (let i = 0; i < n; i++) await argon2.verify(hash, 'warm up', { secret: params.pepper });
  return { hashMs, verifyMs: used(process.cpuUsage(before)) };
}

async function main(): Promise<void> {
  const env = Object.fromEntries((opts.serverEnv ?? []).map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
  const db = await createBenchDatabase();
  const server = await startTesseraProcess(db.url, { cpuProfDir: opts.cpuProf, env, form: opts.fromSources ? 'tsx' : 'dist' });
  try {
    const config = loadConfig(server.env);
    const argon = await argon2CpuMs({ ...config.argon2, pepper: config.secrets.pepper });
    const seed = await seedAccounts(server.address, opts.concurrency);
    const idleStart = cpuMs(server.pid);
    await new Promise((r) => setTimeout(r, 3000));
    const idlePerMs = (cpuMs(server.pid) - idleStart) / 3000;
    const rows: string[] = [];
    for (const kind of opts.only.split(',').map((s) => s.trim())) {
      const calls = Math.round((CALLS[kind] ?? 1000) * opts.scale);
      const job = { kind, address: server.address, seed, concurrency: opts.concurrency, seconds: 600, maxCalls: calls } as Job;
      const before = cpuMs(server.pid);
      const t0 = performance.now();
      const result = await runPhase(job);
      const wallMs = performance.now() - t0;
      const used = cpuMs(server.pid) - before - idlePerMs * wallMs;
      if (result.refreshTokens) seed.refreshTokens = result.refreshTokens;
      // The load's warm-up calls (one per slot) ran on the server too.
      const served = result.calls + result.errors + opts.concurrency;
      rows.push(
        `${kind.padEnd(12)} ${String(served).padStart(6)} calls  ${(used / served).toFixed(3).padStart(8)} ms CPU/call` +
          (result.errors ? `  (${result.errors} errors: ${result.firstError})` : ''),
      );
    }
    process.stdout.write(
      `argon2 raw CPU: hash ${argon.hashMs.toFixed(2)} ms, verify ${argon.verifyMs.toFixed(2)} ms; server idle ${(idlePerMs * 1000).toFixed(1)} ms/s\n` +
        rows.join('\n') +
        `\nserver RSS ${server.memory().rssMb.toFixed(0)} MiB, peak ${server.memory().peakRssMb.toFixed(0)} MiB\n`,
    );
  } finally {
    await server.stop();
    await db.drop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:cpu failed: ${(err as Error).stack}\n`);
    process.exit(1);
  },
);
