import { credentials } from '@grpc/grpc-js';
import { expect } from 'chai';
import { AuthServiceClient } from '../../src/gen/tessera/v1/auth_service.js';
import { useCliSandbox } from '../helpers/cli-sandbox.js';
import { freePort, spawnTessera, waitForExit } from '../helpers/process.js';
import { call } from '../helpers/server.js';

/** The JSON log lines seen so far on a child's stdout. */
function logLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('tessera start with TESSERA_WORKERS=2', function () {
  this.timeout(60_000);
  const sandbox = useCliSandbox();

  it('serves one port from two worker processes, and SIGTERM drains them all and exits 0', async () => {
    const grpcPort = await freePort();
    const { env } = await sandbox.fresh({ TESSERA_WORKERS: '2', GRPC_PORT: String(grpcPort) });
    const child = spawnTessera(['start'], env);
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    const exit = waitForExit(child, 50_000);
    try {
      const deadline = Date.now() + 40_000;
      while (logLines(stdout).filter((l) => l.msg === 'tessera listening').length < 2) {
        if (Date.now() > deadline) throw new Error(`two workers did not start:\n${stdout}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }

      // One connection sticks to one worker: open a fresh connection per call.
      for (let i = 0; i < 12; i++) {
        const client = new AuthServiceClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
        try {
          await call(client, 'getJwks', {});
        } finally {
          client.close();
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      const servedBy = new Set(
        logLines(stdout)
          .filter((l) => l.msg === 'rpc')
          .map((l) => l.worker),
      );
      expect(servedBy.size, 'calls reached both workers').to.equal(2);
      for (const pid of servedBy) expect(pid).to.be.a('number').and.not.equal(child.pid);
    } finally {
      child.kill('SIGTERM');
    }
    const result = await exit;
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    const lines = logLines(result.stdout);
    expect(lines.filter((l) => l.msg === 'tessera stopped' && l.worker !== undefined)).to.have.length(2);
    expect(lines.filter((l) => l.msg === 'worker died')).to.have.length(0);
  });

  it('logs a worker that dies and starts another in its place', async () => {
    const { env } = await sandbox.fresh({ TESSERA_WORKERS: '2' });
    const child = spawnTessera(['start'], env);
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    const exit = waitForExit(child, 50_000);
    const listening = () => logLines(stdout).filter((l) => l.msg === 'tessera listening');
    const waitFor = async (done: () => boolean, what: string) => {
      const deadline = Date.now() + 40_000;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`${what}:\n${stdout}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    try {
      await waitFor(() => listening().length >= 2, 'two workers did not start');
      const victim = listening()[0].worker as number;
      process.kill(victim, 'SIGKILL');
      await waitFor(() => listening().length >= 3, 'no worker replaced the dead one');
      const died = logLines(stdout).filter((l) => l.msg === 'worker died');
      expect(died.map((l) => [l.worker, l.signal])).to.deep.equal([[victim, 'SIGKILL']]);
    } finally {
      child.kill('SIGTERM');
    }
    const result = await exit;
    expect(result.code, result.stdout + result.stderr).to.equal(0);
  });
});
