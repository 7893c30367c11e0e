// One load process: forked by run.ts, it receives a Job, says 'ready', waits for 'go',
// drives its calls until the time or the call budget runs out, reports and exits.
import { credentials, Client, makeGenericClientConstructor, Metadata } from '@grpc/grpc-js';
import argon2 from 'argon2';
import { AuthServiceClient } from '../src/gen/tessera/v1/auth_service.js';
import { ComplianceServiceClient } from '../src/gen/tessera/v1/compliance_service.js';
import { IdentityServiceClient } from '../src/gen/tessera/v1/identity_service.js';
import { Profile } from '../src/gen/tessera/v1/profile.js';
import { ProfileServiceClient } from '../src/gen/tessera/v1/profile_service.js';
import { Semaphore } from '../src/crypto/semaphore.js';
import { ECHO_SERVICE } from './echo-service.js';
import { bearer, unary } from './fixtures.js';
import { quantile, type Bounds, type HashParams, type Job, type LoadMessage, type LoadResult } from './jobs.js';
import { subscribeToAudit } from './audit-subscribers.js';

/** One call of a load; `refreshTokens` reports where RefreshToken's rotation chains ended. */
type Operation = ((slot: number) => Promise<unknown>) & { refreshTokens?: () => string[] };

/** A process that outlives its budget by this much is stopped: a load must end by itself. */
const HARD_STOP_GRACE_MS = 30_000;

function send(message: LoadMessage): void {
  process.send!(message);
}

function waitForGo(): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (msg: unknown) => {
      if (msg === 'go') {
        process.off('message', onMessage);
        resolve();
      }
    };
    process.on('message', onMessage);
  });
}

/** Runs `concurrency` loops of `op` until the deadline or `maxCalls` calls; the first call of each loop warms up uncounted. */
async function drive(bounds: Bounds, op: Operation): Promise<LoadResult> {
  await Promise.all(Array.from({ length: bounds.concurrency }, (_, slot) => op(slot).catch(() => undefined)));
  const latencies: number[] = [];
  let errors = 0;
  let started = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  const deadline = t0 + bounds.seconds * 1000;
  const loop = async (slot: number) => {
    while (performance.now() < deadline && started < bounds.maxCalls) {
      started++;
      const begin = performance.now();
      try {
        await op(slot);
        latencies.push(performance.now() - begin);
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: bounds.concurrency }, (_, slot) => loop(slot)));
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    calls: latencies.length,
    errors,
    firstError,
    seconds,
    rate: latencies.length / seconds,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
  };
}

function argon2Options(params: HashParams) {
  return {
    type: argon2.argon2id,
    memoryCost: params.memoryKib,
    timeCost: params.timeCost,
    parallelism: params.parallelism,
    secret: Buffer.from(params.pepper, 'base64'),
  };
}

/** Builds the operation of a job; `clients` collects what must be closed afterwards. */
async function operationFor(job: Exclude<Job, { kind: 'audit-subscribe' }>, clients: Client[]): Promise<Operation> {
  const open = <C extends Client>(client: C): C => (clients.push(client), client);
  const insecure = credentials.createInsecure();
  // grpc-js shares one connection per address unless each client keeps its own subchannel pool.
  const connections = 'connections' in job ? (job.connections ?? 1) : 1;
  const spread = <C extends Client>(make: (options: Record<string, number>) => C): ((slot: number) => C) => {
    const made = Array.from({ length: connections }, () =>
      open(make(connections > 1 ? { 'grpc.use_local_subchannel_pool': 1 } : {})),
    );
    return (slot) => made[slot % made.length];
  };
  let n = 0;
  switch (job.kind) {
    case 'echo': {
      const EchoClient = makeGenericClientConstructor(ECHO_SERVICE, 'Echo');
      type Echo = Client & {
        echo(request: Buffer, metadata: Metadata, callback: (err: Error | null, response: Buffer) => void): void;
      };
      const client = spread((options) => new EchoClient(job.address, insecure, options) as unknown as Echo);
      const payload = Buffer.alloc(256, 1);
      return (slot) =>
        new Promise((resolve, reject) =>
          client(slot).echo(payload, new Metadata(), (err, res) => (err ? reject(err) : resolve(res))),
        );
    }
    case 'argon2-hash': {
      const gate = new Semaphore(job.params.maxConcurrent);
      const options = argon2Options(job.params);
      return () => gate.run(() => argon2.hash(`floor password ${n++}`, options), 60_000);
    }
    case 'argon2-verify': {
      const gate = new Semaphore(job.params.maxConcurrent);
      const options = argon2Options(job.params);
      const hash = await argon2.hash('floor password', options);
      return () =>
        gate.run(async () => {
          if (!(await argon2.verify(hash, 'floor password', { secret: options.secret }))) throw new Error('verify failed');
        }, 60_000);
    }
    case 'register': {
      const auth = open(new AuthServiceClient(job.address, insecure));
      return () =>
        unary(auth, 'register', {
          email: `reg-${process.pid}-${n++}@bench.example.com`,
          password: job.seed.password,
          fullName: 'Bench Register',
        });
    }
    case 'login': {
      const auth = open(new AuthServiceClient(job.address, insecure));
      const { emails, password } = job.seed;
      return () => unary(auth, 'login', { email: emails[n++ % emails.length], password });
    }
    case 'refresh': {
      const auth = open(new AuthServiceClient(job.address, insecure));
      const chains = [...job.seed.refreshTokens];
      const rotate = async (slot: number) => {
        const res = await unary(auth, 'refreshToken', { refreshToken: chains[slot] });
        chains[slot] = res.tokens!.refreshToken;
      };
      return Object.assign(rotate, { refreshTokens: () => chains });
    }
    case 'get-profile': {
      const profile = spread((options) => new ProfileServiceClient(job.address, insecure, options));
      const md = bearer(job.seed.accessToken);
      return (slot) => unary(profile(slot), 'getProfile', { userId: '' }, md);
    }
    case 'introspect': {
      const auth = spread((options) => new AuthServiceClient(job.address, insecure, options));
      return async (slot) => {
        const res = await unary(auth(slot), 'introspectToken', { token: job.seed.accessToken });
        if (!res.active) throw new Error('token not active');
      };
    }
    case 'list-users': {
      const identity = open(new IdentityServiceClient(job.address, insecure));
      const md = bearer(job.seed.adminToken);
      return async () => {
        const res = await unary(identity, 'listUsers', { pageSize: 50, pageToken: '', filter: '', showDeleted: false }, md);
        if (res.users.length !== 50) throw new Error(`page of ${res.users.length}, not 50`);
      };
    }
    case 'audit-writes': {
      const profile = open(new ProfileServiceClient(job.address, insecure));
      const tokens = job.seed.userTokens.map(bearer);
      return (slot) =>
        unary(
          profile,
          'updateProfile',
          { profile: Profile.fromPartial({ bio: `bench write ${n++}` }), updateMask: ['bio'] },
          tokens[slot % tokens.length],
        );
    }
  }
}

async function runJob(job: Job): Promise<void> {
  if (job.kind === 'audit-subscribe') {
    const client = new ComplianceServiceClient(job.address, credentials.createInsecure());
    await subscribeToAudit(client, job, send);
    client.close();
    return;
  }
  const clients: Client[] = [];
  try {
    const op = await operationFor(job, clients);
    send({ type: 'ready' });
    await waitForGo();
    const result = await drive(job, op);
    send({ type: 'result', result: { ...result, refreshTokens: op.refreshTokens?.() } });
  } finally {
    for (const client of clients) client.close();
  }
}

process.once('message', (job: Job) => {
  const budget = 'seconds' in job ? job.seconds : job.maxWaitSeconds + 60;
  setTimeout(
    () => {
      send({ type: 'failed', message: `${job.kind}: still running ${HARD_STOP_GRACE_MS} ms past its budget` });
      process.exit(1);
    },
    budget * 1000 + HARD_STOP_GRACE_MS,
  ).unref();
  runJob(job).then(
    () => process.disconnect(),
    (err: unknown) => {
      send({ type: 'failed', message: `${job.kind}: ${(err as Error).message}` });
      process.exit(1);
    },
  );
});
