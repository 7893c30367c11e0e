import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ErrorInfo } from '../../src/gen/google/rpc/error_details.js';
import { harness } from '../helpers/harness.js';
import { sql, uniqueEmail } from '../helpers/fixtures.js';

const BUF = fileURLToPath(new URL('../../node_modules/.bin/buf', import.meta.url));

interface CurlResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `buf curl` as the README shows it. The working directory is the
 * system's temporary one, so buf finds no local schema and must use reflection.
 */
function bufCurl(method: string, body: unknown, extraArgs: string[] = []): Promise<CurlResult> {
  const url = `http://${harness().server.address}/${method}`;
  return runBuf([
    'curl',
    '--protocol',
    'grpc',
    '--http2-prior-knowledge',
    '--timeout',
    '10s',
    ...extraArgs,
    url,
    '-d',
    JSON.stringify(body),
  ]);
}

function runBuf(args: string[]): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    execFile(BUF, args, { cwd: tmpdir(), timeout: 15_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ exitCode: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

/** A successful call's JSON response. */
async function curlOk(method: string, body: unknown, extraArgs: string[] = []): Promise<any> {
  const result = await bufCurl(method, body, extraArgs);
  expect(result.exitCode, result.stderr).to.equal(0);
  return JSON.parse(result.stdout);
}

describe('buf curl against the server (the README walk-through)', function () {
  this.timeout(30_000);

  it('lists the methods the server offers', async () => {
    const result = await runBuf([
      'curl',
      '--protocol',
      'grpc',
      '--http2-prior-knowledge',
      '--list-methods',
      `http://${harness().server.address}`,
    ]);
    expect(result.exitCode, result.stderr).to.equal(0);
    const methods = result.stdout.trim().split('\n');
    expect(methods).to.include.members([
      'tessera.v1.AuthService/Register',
      'tessera.v1.AuthService/Login',
      'tessera.v1.ProfileService/GetProfile',
      'tessera.v1.ProfileService/UpdateProfile',
    ]);
  });

  it('registers, signs in, reads and updates the profile as the README shows, using only server reflection', async () => {
    const email = uniqueEmail('curl');
    const password = 'correct horse battery staple';

    const registered = await curlOk('tessera.v1.AuthService/Register', { email, password, full_name: 'Ada Lovelace' });
    expect(registered.user).to.include({ email, role: 'ROLE_USER', status: 'USER_STATUS_ACTIVE' });

    const login = await curlOk('tessera.v1.AuthService/Login', { email, password });
    expect(login.tokens.tokenType).to.equal('Bearer');
    expect(login.tokens.refreshToken).to.be.a('string').and.not.equal('');
    const auth = ['-H', `authorization: Bearer ${login.tokens.accessToken}`];

    const got = await curlOk('tessera.v1.ProfileService/GetProfile', {}, auth);
    expect(got.profile).to.include({ userId: registered.user.id, fullName: 'Ada Lovelace' });

    const updated = await curlOk(
      'tessera.v1.ProfileService/UpdateProfile',
      {
        profile: { bio: 'First programmer', phone_number: '+447400123456', full_name: 'Not Applied' },
        update_mask: 'bio,phoneNumber',
      },
      auth,
    );
    expect(updated.profile).to.include({ bio: 'First programmer', phoneNumber: '+447400123456', fullName: 'Ada Lovelace' });
  });

  it('sends camelCase JSON mask paths as snake_case on the wire, which the server accepts', async () => {
    const email = uniqueEmail('curl-mask');
    const password = 'curl walk-through passphrase';
    await curlOk('tessera.v1.AuthService/Register', { email, password, fullName: 'Before' });
    const login = await curlOk('tessera.v1.AuthService/Login', { email, password });
    const auth = ['-H', `authorization: Bearer ${login.tokens.accessToken}`];

    const updated = await curlOk(
      'tessera.v1.ProfileService/UpdateProfile',
      {
        profile: { fullName: 'After', phoneNumber: '+351 912 345 678', location: 'Porto', preferences: { theme: 'dark' } },
        updateMask: 'fullName,phoneNumber,location,preferences',
      },
      auth,
    );
    expect(updated.profile).to.deep.include({
      fullName: 'After',
      phoneNumber: '+351912345678',
      location: 'Porto',
      preferences: { theme: 'dark' },
    });
    // The audit event names the fields in their proto form, as the server received them.
    const [event] = await sql<{ metadata: { fields: string[] } }>(
      `select metadata from audit_events where type = 'profile.updated' and subject_user_id = $1`,
      [login.user.id],
    );
    expect(event.metadata.fields).to.have.members(['full_name', 'phone_number', 'location', 'preferences']);
  });

  it('exits with the gRPC code shifted left by three and prints the error details on a failed call', async () => {
    const email = uniqueEmail('curl-dup');
    const body = { email, password: 'curl walk-through passphrase', fullName: 'Dup' };
    await curlOk('tessera.v1.AuthService/Register', body);
    const result = await bufCurl('tessera.v1.AuthService/Register', body);
    expect(result.exitCode).to.equal(status.ALREADY_EXISTS << 3);
    const error = JSON.parse(result.stderr);
    expect(error.code).to.equal('already_exists');
    // buf curl does not fetch google.rpc types by reflection for error details: it prints their bytes.
    const detail = (error.details as { type: string; value: string }[]).find((d) => d.type === 'google.rpc.ErrorInfo');
    const info = ErrorInfo.decode(Buffer.from(detail!.value, 'base64'));
    expect(info).to.include({ reason: 'EMAIL_TAKEN', domain: 'tessera.dev' });
  });

  it('works over the v1alpha reflection protocol too', async () => {
    const jwks = await curlOk('tessera.v1.AuthService/GetJwks', {}, ['--reflect-protocol', 'grpc-v1alpha']);
    expect(jwks.keys).to.be.an('array').that.is.not.empty;
  });
});
