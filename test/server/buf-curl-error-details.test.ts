import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { harness } from '../helpers/harness.js';
import { PROJECT_ROOT } from '../helpers/process.js';
import { registerUser } from '../helpers/fixtures.js';

const BUF = fileURLToPath(new URL('../../node_modules/.bin/buf', import.meta.url));

/**
 * The README's recipe for a readable error: buf curl -v shows the
 * grpc-status-details-bin trailer, and buf convert decodes that
 * google.rpc.Status, details included, against the repository's protos.
 * (buf curl itself prints details as base64: it decodes them only with types
 * compiled into buf, and ships none of google.rpc's error details.)
 */
function curlAndDecode(method: string, body: unknown): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = [
    `"$BUF" curl -v --protocol grpc --http2-prior-knowledge --timeout 10s "$URL" -d "$BODY" 2>&1`,
    `sed -n 's/.*Grpc-Status-Details-Bin: //p'`,
    'base64 -d',
    `"$BUF" convert proto --type google.rpc.Status --from -#format=binpb --to -#format=json`,
  ].join(' | ');
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    BUF,
    URL: `http://${harness().server.address}/${method}`,
    BODY: JSON.stringify(body),
  };
  return new Promise((resolve) => {
    execFile('sh', ['-c', script], { cwd: PROJECT_ROOT, env, timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err.code as number) ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('decoding an error from buf curl with buf convert (the README walk-through)', function () {
  this.timeout(30_000);

  it('shows a failed Login as a google.rpc.Status with the decoded ErrorInfo reason INVALID_CREDENTIALS', async () => {
    const { email } = await registerUser();
    const result = await curlAndDecode('tessera.v1.AuthService/Login', { email, password: 'not the right password' });
    expect(result.code, result.stderr).to.equal(0);
    const decoded = JSON.parse(result.stdout);
    expect(decoded).to.include({ code: 16, message: 'invalid email or password' });
    expect(decoded.details).to.have.length(1);
    expect(decoded.details[0]).to.include({
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'INVALID_CREDENTIALS',
      domain: 'tessera.dev',
    });
    expect(decoded.details[0].metadata.error_id).to.be.a('string').and.not.equal('');
  });

  it('shows an invalid Register as BadRequest field violations by proto path', async () => {
    const result = await curlAndDecode('tessera.v1.AuthService/Register', { email: 'no-at-sign', password: 'short' });
    expect(result.code, result.stderr).to.equal(0);
    const decoded = JSON.parse(result.stdout);
    expect(decoded.code).to.equal(3);
    const badRequest = decoded.details.find((d: { '@type': string }) => d['@type'].endsWith('google.rpc.BadRequest'));
    const fields = (badRequest.fieldViolations as { field: string; description: string }[]).map((v) => v.field);
    expect(fields).to.include.members(['email', 'password']);
  });
});
