import { connectivityState, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { AuthServiceClient } from '../../src/gen/tessera/v1/auth_service.js';
import { ComplianceServiceClient } from '../../src/gen/tessera/v1/compliance_service.js';
import { CollectedStream } from '../helpers/audit.js';
import { adminToken } from '../helpers/fixtures.js';
import { bearer, call, startSiblingServer, type TestServer } from '../helpers/server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('connection limits', () => {
  describe('GRPC_MAX_CONCURRENT_STREAMS', () => {
    let server: TestServer;
    before(async () => {
      server = await startSiblingServer({ GRPC_MAX_CONCURRENT_STREAMS: '5' });
    });
    after(() => server?.close());

    it('holds a call beyond the cap until a stream of the connection ends', async () => {
      const token = await adminToken(server);
      const compliance = new ComplianceServiceClient(server.address, credentials.createInsecure());
      const auth = new AuthServiceClient(server.address, credentials.createInsecure(), {
        channelOverride: compliance.getChannel(),
      });
      const streams = Array.from(
        { length: 5 },
        () => new CollectedStream(compliance, { afterEventId: undefined, filter: undefined }, bearer(token)),
      );
      try {
        await sleep(300);
        const held = await call(auth, 'getJwks', {}, new Metadata(), { deadline: Date.now() + 700 }).then(
          () => undefined,
          (err: ServiceError) => err,
        );
        expect(held?.code).to.equal(status.DEADLINE_EXCEEDED);
        streams[0]!.cancel();
        expect((await call(auth, 'getJwks', {})).keys).to.not.be.empty;
      } finally {
        for (const s of streams) s.cancel();
        compliance.close();
      }
    });
  });

  describe('GRPC_MAX_CONNECTION_IDLE_SECONDS and GRPC_MAX_CONNECTION_AGE_SECONDS', () => {
    let server: TestServer;
    before(async () => {
      server = await startSiblingServer({
        GRPC_MAX_CONNECTION_IDLE_SECONDS: '1',
        GRPC_MAX_CONNECTION_AGE_SECONDS: '2',
        GRPC_MAX_CONNECTION_AGE_GRACE_SECONDS: '1',
      });
    });
    after(() => server?.close());

    it('closes a connection without calls after the idle timeout', async () => {
      const auth = new AuthServiceClient(server.address, credentials.createInsecure());
      try {
        await call(auth, 'getJwks', {});
        expect(auth.getChannel().getConnectivityState(false)).to.equal(connectivityState.READY);
        await sleep(1800);
        expect(auth.getChannel().getConnectivityState(false)).to.equal(connectivityState.IDLE);
        expect((await call(auth, 'getJwks', {})).keys).to.not.be.empty;
      } finally {
        auth.close();
      }
    });

    it('ends a stream on an aged connection after the grace, with UNAVAILABLE, and serves the client anew', async function () {
      this.timeout(15_000);
      const token = await adminToken(server);
      // A connection of its own, opened by the stream: grpc-js otherwise reuses a pooled one whose age started earlier.
      const compliance = new ComplianceServiceClient(server.address, credentials.createInsecure(), {
        'grpc.use_local_subchannel_pool': 1,
      });
      const stream = new CollectedStream(compliance, { afterEventId: undefined, filter: undefined }, bearer(token));
      try {
        const started = Date.now();
        const err = await stream.waitForError(8000);
        const seconds = (Date.now() - started) / 1000;
        expect(err.code).to.equal(status.UNAVAILABLE);
        // Age 2 s (grpc-js adds up to 10% jitter) plus 1 s of grace.
        expect(seconds).to.be.within(2.5, 4.5);
        const auth = new AuthServiceClient(server.address, credentials.createInsecure(), {
          channelOverride: compliance.getChannel(),
        });
        expect((await call(auth, 'getJwks', {})).keys).to.not.be.empty;
      } finally {
        stream.cancel();
        compliance.close();
      }
    });
  });
});
