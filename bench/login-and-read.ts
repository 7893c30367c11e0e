// `npm run bench`: throughput and latency of Login (argon2-bound) and of an
// authenticated read (JWT verify + session check + profile read), alone and
// mixed, against a real server and PostgreSQL on loopback. Bounded in time.
import { credentials, Metadata } from '@grpc/grpc-js';
import { availableParallelism } from 'node:os';
import { AuthServiceClient } from '../src/gen/tessera/v1/auth_service.js';
import { ProfileServiceClient } from '../src/gen/tessera/v1/profile_service.js';
import { runBench } from './bench-server.js';
import { call } from '../test/helpers/server.js';

const PHASE_SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const USERS = 20;
const PASSWORD = 'benchmark passphrase 123';

interface PhaseResult {
  calls: number;
  errors: number;
  latenciesMs: number[];
}

async function runFor(seconds: number, concurrency: number, op: () => Promise<unknown>): Promise<PhaseResult> {
  const deadline = Date.now() + seconds * 1000;
  const result: PhaseResult = { calls: 0, errors: 0, latenciesMs: [] };
  const worker = async () => {
    while (Date.now() < deadline) {
      const started = performance.now();
      try {
        await op();
        result.calls++;
        result.latenciesMs.push(performance.now() - started);
      } catch {
        result.errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return result;
}

function summarize(name: string, r: PhaseResult, seconds: number): string {
  const sorted = [...r.latenciesMs].sort((a, b) => a - b);
  const pct = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN);
  return `${name.padEnd(28)} ${(r.calls / seconds).toFixed(0).padStart(6)} calls/s  p50 ${pct(0.5).toFixed(1)} ms  p99 ${pct(0.99).toFixed(1)} ms  errors ${r.errors}`;
}

runBench('login/read bench', async (server) => {
  process.stdout.write(`Tessera bench: ${availableParallelism()} cores, ${PHASE_SECONDS}s per phase\n`);
  const address = `127.0.0.1:${server.tessera.grpcPort}`;
  const auth = new AuthServiceClient(address, credentials.createInsecure());
  const profile = new ProfileServiceClient(address, credentials.createInsecure());
  try {
    const emails = Array.from({ length: USERS }, (_, i) => `bench-${i}-${Date.now()}@example.com`);
    for (const email of emails) await call(auth, 'register', { email, password: PASSWORD, fullName: 'Bench' });
    const login = await call(auth, 'login', { email: emails[0], password: PASSWORD });
    const md = new Metadata();
    md.set('authorization', `Bearer ${login.tokens!.accessToken}`);

    let i = 0;
    const doLogin = () => call(auth, 'login', { email: emails[i++ % USERS], password: PASSWORD });
    const doRead = () => call(profile, 'getProfile', { userId: '' }, md);

    const reads = await runFor(PHASE_SECONDS, 16, doRead);
    process.stdout.write(summarize('GetProfile alone (c=16)', reads, PHASE_SECONDS) + '\n');
    const logins = await runFor(PHASE_SECONDS, 8, doLogin);
    process.stdout.write(summarize('Login alone (c=8)', logins, PHASE_SECONDS) + '\n');
    const [mixedLogins, mixedReads] = await Promise.all([runFor(PHASE_SECONDS, 8, doLogin), runFor(PHASE_SECONDS, 16, doRead)]);
    process.stdout.write(summarize('Login mixed (c=8)', mixedLogins, PHASE_SECONDS) + '\n');
    process.stdout.write(summarize('GetProfile mixed (c=16)', mixedReads, PHASE_SECONDS) + '\n');
  } finally {
    auth.close();
    profile.close();
  }
});
