import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../helpers/process.js';

const DESCRIPTOR_SET = join(PROJECT_ROOT, 'src', 'gen', 'tessera.binpb');

function apiDocs(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'scripts/api-docs.ts', ...args],
      { cwd: PROJECT_ROOT, timeout: 30_000 },
      (err, _out, stderr) => resolve({ code: err ? ((err.code as number) ?? 1) : 0, stderr }),
    );
  });
}

describe('the API reference generator (npm run docs, npm run check:docs)', function () {
  this.timeout(60_000);
  let dir: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-api-docs-'));
    const written = await apiDocs([DESCRIPTOR_SET, dir]);
    expect(written.code, written.stderr).to.equal(0);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes one page per proto file from the proto comments, with access policies and cross-page type links', () => {
    const auth = readFileSync(join(dir, 'v1', 'auth_service.md'), 'utf8');
    expect(auth).to.contain('### AuthService');
    expect(auth).to.contain('Register creates an account with a password.');
    expect(auth).to.contain('Access: public (no credentials).');
    expect(auth).to.match(/\| `email` \| 1 \| `string` \| The email address/);
    const identity = readFileSync(join(dir, 'v1', 'identity_service.md'), 'utf8');
    expect(identity).to.contain('(user.md#tessera.v1.user)');
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).to.contain(
      '[ComplianceService](v1/compliance_service.md#tessera.v1.complianceservice)',
    );
  });

  it('passes the check on what it just wrote', async () => {
    expect((await apiDocs(['--check', DESCRIPTOR_SET, dir])).code).to.equal(0);
  });

  it('fails the check naming a changed page and a page no proto file gives', async () => {
    appendFileSync(join(dir, 'v1', 'user.md'), 'hand edit\n');
    writeFileSync(join(dir, 'v1', 'removed_service.md'), '# gone\n');
    const result = await apiDocs(['--check', DESCRIPTOR_SET, dir]);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain('v1/user.md').and.contain('v1/removed_service.md').and.contain('npm run docs');
  });

  it('refuses a descriptor set built without comments', async () => {
    const result = await apiDocs([join(PROJECT_ROOT, 'proto', 'baseline', 'tessera.binpb'), join(dir, 'out')]);
    expect(result.code).to.not.equal(0);
    expect(result.stderr).to.contain('has no comments');
  });
});
