// Runs load phases in forked processes: each phase is one (or, mixed, several) load.ts children.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Job, LoadMessage, LoadResult, SubscribeResult } from './jobs.js';

const LOAD_SCRIPT = fileURLToPath(new URL('./load.ts', import.meta.url));

/** A forked load process that has built its job and waits for 'go'. */
export interface ReadyLoad {
  child: ChildProcess;
  next(): Promise<LoadMessage>;
}

/** Forks load.ts with `job` and resolves once it is ready. */
export async function startLoad(job: Job): Promise<ReadyLoad> {
  const child = fork(LOAD_SCRIPT, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const inbox: LoadMessage[] = [];
  const waiting: ((m: LoadMessage) => void)[] = [];
  child.on('message', (m: LoadMessage) => (waiting.length ? waiting.shift()!(m) : inbox.push(m)));
  child.once('exit', (code) => {
    const failure: LoadMessage = { type: 'failed', message: `${job.kind} load exited with ${code}` };
    for (const w of waiting.splice(0)) w(failure);
    inbox.push(failure);
  });
  const next = () => new Promise<LoadMessage>((resolve) => (inbox.length ? resolve(inbox.shift()!) : waiting.push(resolve)));
  child.send(job);
  const first = await next();
  if (first.type !== 'ready') throw new Error(first.type === 'failed' ? first.message : `unexpected ${first.type}`);
  return { child, next };
}

/** Starts ready loads together and collects their results, in order. */
export async function runTogether(loads: ReadyLoad[]): Promise<LoadResult[]> {
  for (const load of loads) load.child.send('go');
  return Promise.all(
    loads.map(async (load) => {
      const m = await load.next();
      if (m.type !== 'result') throw new Error(m.type === 'failed' ? m.message : `unexpected ${m.type}`);
      return m.result;
    }),
  );
}

/** One load process, start to result. */
export async function runPhase(job: Job): Promise<LoadResult> {
  const [result] = await runTogether([await startLoad(job)]);
  return result;
}

/** Waits for a subscriber process's report after telling it how many writes committed. */
export async function drainSubscribers(load: ReadyLoad, expected: number): Promise<SubscribeResult> {
  load.child.send({ drain: expected });
  const m = await load.next();
  if (m.type !== 'subscribed') throw new Error(m.type === 'failed' ? m.message : `unexpected ${m.type}`);
  return m.result;
}
