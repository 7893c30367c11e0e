import { Metadata, status, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { harness } from '../helpers/harness.js';
import { registerUser, signedInUser, uniqueEmail } from '../helpers/fixtures.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, BOOTSTRAP_ADMIN, call } from '../helpers/server.js';

/** Calls GetJwks (or GetProfile, which fails without a token) and captures the response headers. */
function callCapturingHeaders(
  kind: 'ok' | 'error',
  metadata: Metadata,
): Promise<{ headers: Metadata; error: ServiceError | null }> {
  const { auth, profile } = harness().server;
  return new Promise((resolve) => {
    let headers = new Metadata();
    const done = (error: ServiceError | null) => resolve({ headers, error });
    const pending: ClientUnaryCall =
      kind === 'ok'
        ? auth.getJwks({}, metadata, (err) => done(err))
        : profile.getProfile({ userId: '' }, metadata, (err) => done(err));
    pending.on('metadata', (md: Metadata) => {
      headers = md;
    });
  });
}

function withRequestId(id: string): Metadata {
  const md = new Metadata();
  md.set('x-request-id', id);
  return md;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('message size limit', () => {
  it('refuses a request larger than the limit with RESOURCE_EXHAUSTED', async () => {
    const fullName = 'x'.repeat(5 * 1024 * 1024);
    await expectRpcError(
      call(harness().server.auth, 'register', { email: uniqueEmail('huge'), password: 'long enough password', fullName }),
      status.RESOURCE_EXHAUSTED,
    );
  });

  it('still serves the same client afterwards', async () => {
    const res = await call(harness().server.auth, 'getJwks', {});
    expect(res.keys).to.not.be.empty;
  });
});

describe('x-request-id', () => {
  it('echoes the id the client sent in the response headers', async () => {
    const id = `req-${randomUUID()}`;
    const { headers, error } = await callCapturingHeaders('ok', withRequestId(id));
    expect(error).to.equal(null);
    expect(headers.get('x-request-id')).to.deep.equal([id]);
  });

  it('echoes it on a failed call too', async () => {
    const id = `req-${randomUUID()}`;
    const { headers, error } = await callCapturingHeaders('error', withRequestId(id));
    expect(error?.code).to.equal(status.UNAUTHENTICATED);
    expect(headers.get('x-request-id')).to.deep.equal([id]);
  });

  it('generates a UUID when the client sent none', async () => {
    const first = await callCapturingHeaders('ok', new Metadata());
    const second = await callCapturingHeaders('ok', new Metadata());
    const [a] = first.headers.get('x-request-id') as string[];
    const [b] = second.headers.get('x-request-id') as string[];
    expect(a).to.match(UUID);
    expect(b).to.match(UUID);
    expect(a).to.not.equal(b);
  });

  it('replaces a malformed or oversized id with a generated one', async () => {
    for (const bad of ['has spaces in it', 'x'.repeat(129), 'semi;colon']) {
      const { headers } = await callCapturingHeaders('ok', withRequestId(bad));
      expect(headers.get('x-request-id')[0], bad.slice(0, 20)).to.match(UUID);
    }
  });

  it('names the request id in the server log line of the call', async () => {
    const id = `req-${randomUUID()}`;
    await callCapturingHeaders('ok', withRequestId(id));
    const line = harness()
      .server.logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.requestId === id);
    expect(line).to.include({ method: '/tessera.v1.AuthService/GetJwks', code: 'OK', msg: 'rpc' });
  });
});

describe('error details', () => {
  /** One call per error a handler can raise, with the code it must fail with. */
  const failures: { name: string; code: status; run: () => Promise<unknown> }[] = [
    {
      name: 'INVALID_ARGUMENT (validation)',
      code: status.INVALID_ARGUMENT,
      run: () => call(harness().server.auth, 'register', { email: 'not an email', password: 'x', fullName: '' }),
    },
    {
      name: 'ALREADY_EXISTS',
      code: status.ALREADY_EXISTS,
      run: async () => {
        const { email } = await registerUser();
        return call(harness().server.auth, 'register', { email, password: 'another fine passphrase', fullName: 'Dup' });
      },
    },
    {
      name: 'UNAUTHENTICATED (wrong password)',
      code: status.UNAUTHENTICATED,
      run: async () => {
        const { email } = await registerUser();
        return call(harness().server.auth, 'login', { email, password: 'not the password at all' });
      },
    },
    {
      name: 'UNAUTHENTICATED (malformed access token)',
      code: status.UNAUTHENTICATED,
      run: () => call(harness().server.profile, 'getProfile', { userId: '' }, bearer('not.a.jwt')),
    },
    {
      name: 'PERMISSION_DENIED',
      code: status.PERMISSION_DENIED,
      run: async () => {
        const me = await signedInUser();
        return call(harness().server.profile, 'getProfile', { userId: randomUUID() }, bearer(me.accessToken));
      },
    },
    {
      name: 'NOT_FOUND',
      code: status.NOT_FOUND,
      run: async () => {
        const admin = await call(harness().server.auth, 'login', BOOTSTRAP_ADMIN);
        return call(harness().server.profile, 'getProfile', { userId: randomUUID() }, bearer(admin.tokens!.accessToken));
      },
    },
  ];

  for (const failure of failures) {
    it(`gives ${failure.name} a google.rpc.Status with ErrorInfo in domain tessera.dev and the error id`, async () => {
      const details = await expectRpcError(failure.run(), failure.code);
      expect(details.errorInfo, 'ErrorInfo').to.not.equal(undefined);
      expect(details.errorInfo!.domain).to.equal('tessera.dev');
      expect(details.errorInfo!.reason).to.match(/^[A-Z][A-Z0-9_]*$/);
      expect(details.errorInfo!.metadata.error_id).to.match(/^[A-Z]+-\d{3}$/);
    });
  }

  it('lists every violated field in BadRequest for a validation error', async () => {
    const details = await expectRpcError(
      call(harness().server.auth, 'register', { email: 'not an email', password: 'short', fullName: 'ok' }),
      status.INVALID_ARGUMENT,
      { fields: ['email', 'password'] },
    );
    expect(details.errorInfo?.reason).to.equal('INVALID_ARGUMENT');
  });
});

describe('authentication by access policy', () => {
  it('refuses GetProfile without a token with UNAUTHENTICATED and MISSING_CREDENTIALS', async () => {
    await expectRpcError(call(harness().server.profile, 'getProfile', { userId: '' }), status.UNAUTHENTICATED, {
      reason: 'MISSING_CREDENTIALS',
    });
  });

  it('refuses UpdateProfile without a token before looking at the request', async () => {
    await expectRpcError(
      call(harness().server.profile, 'updateProfile', { profile: undefined, updateMask: [] }),
      status.UNAUTHENTICATED,
      { reason: 'MISSING_CREDENTIALS' },
    );
  });

  it('refuses an authorization header that is not a Bearer token', async () => {
    const md = new Metadata();
    md.set('authorization', 'Basic dXNlcjpwYXNz');
    await expectRpcError(call(harness().server.profile, 'getProfile', { userId: '' }, md), status.UNAUTHENTICATED, {
      reason: 'MISSING_CREDENTIALS',
    });
  });

  it('serves public RPCs without a token', async () => {
    const res = await call(harness().server.auth, 'getJwks', {});
    expect(res.keys).to.not.be.empty;
  });
});
