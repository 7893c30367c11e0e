import { credentials } from '@grpc/grpc-js';
import { expect } from 'chai';
import { useProcessSuite } from '../helpers/cli-sandbox.js';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AuthServiceClient } from '../../src/gen/tessera/v1/auth_service.js';
import { freePort, PROJECT_ROOT, tesseraEnv } from '../helpers/process.js';
import { call } from '../helpers/server.js';

/** The NUL-separated entries of a /proc file (cmdline, environ). */
function procEntries(pid: number, file: 'cmdline' | 'environ'): string[] {
  return readFileSync(`/proc/${pid}/${file}`, 'utf8').split('\0').filter(Boolean);
}

describe('scripts/start-production.sh (how production starts the service)', function () {
  this.timeout(30_000);
  const suite = useProcessSuite();
  const { dataDirs } = suite;
  // Both starts share one database, so they share the key that seals its signing keys.
  const masterKey = randomBytes(32).toString('base64');

  /** Runs the script with `args` and waits until the service listens. */
  async function startScript(args: string[], extra: Record<string, string> = {}) {
    const grpcPort = await freePort();
    const env = tesseraEnv(suite.db.url, { GRPC_PORT: String(grpcPort), TESSERA_MASTER_KEY: masterKey, ...extra });
    dataDirs.push(env.TESSERA_DATA_DIR!);
    const started = await suite.untilListening(
      spawn('sh', ['scripts/start-production.sh', ...args], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    return { ...started, grpcPort };
  }

  it('execs node on the compiled dist/ with the memory defaults, serves, and drains on SIGTERM', async () => {
    const { child, exited, grpcPort } = await startScript([]);
    // exec: the shell's pid is now node's, so signals sent to it reach the server.
    const argv = procEntries(child.pid!, 'cmdline');
    expect(argv[0]).to.match(/(^|\/)node$/);
    expect(argv.slice(-2)).to.deep.equal([`scripts/../dist/main.js`, 'start']);
    expect(argv).to.not.include('tsx');
    const environ = procEntries(child.pid!, 'environ');
    expect(environ).to.include('MALLOC_ARENA_MAX=1');
    expect(environ.find((e) => e.startsWith('NODE_OPTIONS='))).to.equal('NODE_OPTIONS=--max-semi-space-size=8');

    const client = new AuthServiceClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
    try {
      const jwks = await call(client, 'getJwks', {});
      expect(jwks.keys).to.not.be.empty;
    } finally {
      client.close();
    }
    child.kill('SIGTERM');
    const { code, stdout } = await exited;
    expect(code, stdout).to.equal(0);
    expect(stdout).to.contain('tessera stopped');
  });

  it('keeps the values the environment already sets, and hands its arguments to node', async () => {
    const { child, exited } = await startScript(['--max-old-space-size=512'], {
      MALLOC_ARENA_MAX: '4',
      NODE_OPTIONS: '--max-semi-space-size=16',
    });
    const argv = procEntries(child.pid!, 'cmdline');
    expect(argv.slice(1)).to.deep.equal(['--max-old-space-size=512', 'scripts/../dist/main.js', 'start']);
    const environ = procEntries(child.pid!, 'environ');
    expect(environ).to.include('MALLOC_ARENA_MAX=4');
    // V8 takes the last of a repeated flag: the environment's semi-space size wins over the default before it.
    expect(environ).to.include('NODE_OPTIONS=--max-semi-space-size=8 --max-semi-space-size=16');
    child.kill('SIGTERM');
    expect((await exited).code).to.equal(0);
  });
});
