import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { sqlOn } from '../helpers/fixtures.js';
import { PROJECT_ROOT, runTessera, tesseraEnv } from '../helpers/process.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Debian's interpreter: it sees python3-grpcio and python3-protobuf (a pyenv or venv python on PATH may not). */
const PYTHON = '/usr/bin/python3';

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: PROJECT_ROOT, env, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err.code as number) ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The `key: value` lines an example printed, by key (a key printed several times keeps every value). */
function linesOf(stdout: string): Map<string, string[]> {
  const lines = new Map<string, string[]>();
  for (const line of stdout.split('\n').filter(Boolean)) {
    const [key, ...rest] = line.split(': ');
    lines.set(key, [...(lines.get(key) ?? []), rest.join(': ')]);
  }
  return lines;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('the client examples against a fresh Tessera (npm run test:clients)', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  let server: TestServer;
  let apiKey: string;

  before(async () => {
    db = await createTestDatabase();
    env = tesseraEnv(db.url);
    // The operator's way to get a backend key: the CLI, which prints it once on stdout.
    const created = await runTessera(['create-service-account', '--name', 'audit-reader', '--role', 'auditor'], env);
    expect(created.code, created.stderr).to.equal(0);
    apiKey = created.stdout.split('\n').find((line) => line.startsWith('tsk_'))!;
    server = await startTestServer(db, { TESSERA_PEPPER: env.TESSERA_PEPPER!, TESSERA_MASTER_KEY: env.TESSERA_MASTER_KEY! });
  });

  after(async () => {
    await server?.close();
    rmSync(env.TESSERA_DATA_DIR!, { recursive: true, force: true });
    await db?.drop();
  });

  it('runs the TypeScript example: register, login, profile, decoded error reason', async () => {
    const result = await run(process.execPath, ['--import', 'tsx', 'examples/typescript/quickstart.ts'], {
      PATH: process.env.PATH,
      TESSERA_ADDRESS: server.address,
    });
    expect(result.code, result.stderr).to.equal(0);
    const lines = linesOf(result.stdout);
    expect(lines.get('registered')?.[0]).to.match(UUID);
    expect(lines.get('token type')).to.deep.equal(['Bearer']);
    expect(lines.get('profile name')).to.deep.equal(['Ada Lovelace']);
    expect(lines.get('error reason')).to.deep.equal(['INVALID_CREDENTIALS (domain tessera.dev)']);
  });

  it('generates Python stubs from proto/ with protoc and runs the Python example, audit stream included', async () => {
    const generated = await run('sh', [join('examples', 'python', 'generate.sh')], { PATH: process.env.PATH });
    expect(
      generated.code,
      `generate.sh failed (protobuf-compiler, protobuf-compiler-grpc installed?): ${generated.stderr}`,
    ).to.equal(0);

    const result = await run(PYTHON, [join('examples', 'python', 'quickstart.py')], {
      PATH: process.env.PATH,
      TESSERA_ADDRESS: server.address,
      TESSERA_API_KEY: apiKey,
    });
    expect(result.code, result.stderr).to.equal(0);
    const lines = linesOf(result.stdout);
    expect(lines.get('registered')?.[0]).to.match(UUID);
    expect(lines.get('token type')).to.deep.equal(['Bearer']);
    expect(lines.get('profile name')).to.deep.equal(['Ada Lovelace']);
    expect(lines.get('error code')).to.deep.equal(['UNAUTHENTICATED']);
    expect(lines.get('error reason')).to.deep.equal(['INVALID_CREDENTIALS (domain tessera.dev)']);

    // The trail from its start, as stored: the first three events of the fresh database, in id order.
    const stored = await sqlOn<{ id: string; type: string }>(server, 'select id, type from audit_events order by id limit 3');
    expect(lines.get('audit event')).to.deep.equal(stored.map((e) => `${e.id} ${e.type}`));
    expect(result.stdout + result.stderr).to.not.contain(apiKey.slice(12));
  });
});
