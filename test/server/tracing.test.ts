import { Metadata } from '@grpc/grpc-js';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { harness } from '../helpers/harness.js';
import { registerUser, uniqueEmail } from '../helpers/fixtures.js';
import { call, startTestServer, type TestServer } from '../helpers/server.js';

/** A W3C `traceparent` as a calling service would send it: fresh ids, sampled. */
function callerTraceContext(): { traceId: string; parentSpanId: string; metadata: Metadata } {
  const traceId = randomBytes(16).toString('hex');
  const parentSpanId = randomBytes(8).toString('hex');
  const metadata = new Metadata();
  metadata.set('traceparent', `00-${traceId}-${parentSpanId}-01`);
  metadata.set('tracestate', 'caller=abc');
  return { traceId, parentSpanId, metadata };
}

/** Everything a span carries that an exporter would ship: name, attributes, status, events. */
function shipped(span: ReadableSpan): string {
  return JSON.stringify({ name: span.name, attributes: span.attributes, status: span.status, events: span.events });
}

/** The SQL statements among `spans` (the main database's and the key store's `data_keys`), by name, in the order they started. */
function statementNames(spans: ReadableSpan[]): string[] {
  return spans
    .filter((s) => s.attributes['db.system.name'] === 'postgresql')
    .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1])
    .map((s) => s.name);
}

describe('tracing (OpenTelemetry)', () => {
  const exporter = new InMemorySpanExporter();
  let server: TestServer;

  before(async () => {
    // Another instance of the shared deployment (its secrets open the same signing keys), tracing into memory.
    const { TESSERA_PEPPER, TESSERA_MASTER_KEY } = harness().server.env;
    server = await startTestServer(harness().db, { TESSERA_PEPPER, TESSERA_MASTER_KEY }, { spanExporter: exporter });
  });

  after(async () => {
    await server?.close();
  });

  describe('AuthService.Login', () => {
    const email = uniqueEmail('traced');
    const password = `Traced-Password-${randomBytes(6).toString('hex')}`;
    const caller = callerTraceContext();
    let spans: ReadableSpan[];
    let loginSpan: ReadableSpan;
    let tokens: { accessToken: string; refreshToken: string };

    before(async () => {
      await registerUser({ email, password, server });
      exporter.reset();
      const res = await call(server.auth, 'login', { email, password }, caller.metadata);
      tokens = { accessToken: res.tokens!.accessToken, refreshToken: res.tokens!.refreshToken };
      spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === caller.traceId);
      loginSpan = spans.find((s) => s.name === 'tessera.v1.AuthService/Login')!;
    });

    /** The spans below `ancestor`, following parent ids. */
    const descendantsOf = (ancestor: ReadableSpan): ReadableSpan[] => {
      const below = new Set([ancestor.spanContext().spanId]);
      let grew = true;
      while (grew) {
        grew = false;
        for (const s of spans) {
          const parent = s.parentSpanContext?.spanId;
          if (parent && below.has(parent) && !below.has(s.spanContext().spanId)) {
            below.add(s.spanContext().spanId);
            grew = true;
          }
        }
      }
      return spans.filter((s) => s !== ancestor && below.has(s.spanContext().spanId));
    };

    it('records one server span for the call, child of the caller’s traceparent, with rpc attributes', () => {
      expect(loginSpan, 'the Login span').to.exist;
      expect(loginSpan.kind).to.equal(SpanKind.SERVER);
      expect(loginSpan.parentSpanContext?.spanId).to.equal(caller.parentSpanId);
      expect(loginSpan.parentSpanContext?.isRemote).to.equal(true);
      expect(loginSpan.spanContext().traceState?.get('caller')).to.equal('abc');
      expect(loginSpan.attributes).to.include({
        'rpc.system.name': 'grpc',
        'rpc.method': 'tessera.v1.AuthService/Login',
        'rpc.status_code': 'OK',
      });
    });

    it('puts every span of the call in the caller’s trace, below the server span', () => {
      expect(spans.length).to.be.greaterThan(3);
      const below = descendantsOf(loginSpan);
      expect(below.length, 'spans of the call').to.equal(spans.length - 1);
    });

    it('records the SQL statements as client spans with their text but not their values', () => {
      const sqlSpans = descendantsOf(loginSpan).filter((s) => s.attributes['db.system.name'] === 'postgresql');
      expect(sqlSpans.map((s) => s.name)).to.include('SELECT users');
      expect(sqlSpans.map((s) => s.name)).to.include.members(['BEGIN', 'COMMIT']);
      for (const s of sqlSpans) expect(s.kind).to.equal(SpanKind.CLIENT);
      const selectUser = sqlSpans.find((s) => s.name === 'SELECT users')!;
      // The statement as written, placeholders and all (the sign-in read is a prepared statement, not the ORM's).
      expect(String(selectUser.attributes['db.query.text'])).to.match(/^select .* from "?users"?\b.*\$1/s);
    });

    it('runs the sign-in in six statements and reads the data key from the key store: the session insert also draws the event id', () => {
      expect(statementNames(descendantsOf(loginSpan))).to.deep.equal([
        'SELECT users',
        'BEGIN',
        'UPDATE users',
        'SELECT data_keys',
        'INSERT sessions',
        'INSERT audit_events',
        'COMMIT',
      ]);
    });

    it('records the wait in the password hash queue and the verification', () => {
      const below = descendantsOf(loginSpan);
      const queue = below.find((s) => s.name === 'password.queue');
      const verify = below.find((s) => s.name === 'password.verify');
      expect(queue, 'queue span').to.exist;
      expect(verify, 'verify span').to.exist;
      expect(verify!.attributes['tessera.password.scheme']).to.equal('argon2');
    });

    it('writes the trace and span ids in every log line of the call', () => {
      const lines = server.logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      const ofCall = lines.filter((l) => l.method === '/tessera.v1.AuthService/Login' && l.traceId === caller.traceId);
      expect(ofCall.length, 'log lines of the call').to.be.greaterThan(0);
      for (const line of ofCall) expect(line.spanId).to.equal(loginSpan.spanContext().spanId);
    });

    it('ships neither the password, the email nor a token in any span', () => {
      const all = exporter.getFinishedSpans().map(shipped).join('\n');
      for (const [what, secret] of Object.entries({ password, email, ...tokens })) {
        expect(all.includes(secret), what).to.equal(false);
      }
    });
  });

  it('traces a call without a traceparent as a new root, and records the hash and the statements of a registration', async () => {
    exporter.reset();
    const password = `Traced-Password-${randomBytes(6).toString('hex')}`;
    const email = uniqueEmail('traced-register');
    await call(server.auth, 'register', { email, password, fullName: 'Traced' });
    const register = exporter.getFinishedSpans().find((s) => s.name === 'tessera.v1.AuthService/Register')!;
    expect(register.parentSpanContext).to.equal(undefined);
    const ofTrace = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === register.spanContext().traceId);
    expect(ofTrace.map((s) => s.name)).to.include.members(['password.queue', 'password.hash', 'INSERT users']);
    // The data key in the key store first (it commits there before the account does); then the account,
    // its profile and the event's id in one statement.
    expect(statementNames(ofTrace)).to.deep.equal(['BEGIN', 'INSERT data_keys', 'INSERT users', 'INSERT audit_events', 'COMMIT']);
    const all = exporter.getFinishedSpans().map(shipped).join('\n');
    expect(all.includes(password)).to.equal(false);
    expect(all.includes(email)).to.equal(false);
  });

  it('traces mail delivery (a reset mail) without the address or the link', async () => {
    exporter.reset();
    const { email } = await registerUser({ email: uniqueEmail('traced-mail'), server });
    await call(server.auth, 'requestPasswordReset', { email });
    let delivery: ReadableSpan | undefined;
    for (let i = 0; i < 50 && !delivery; i++) {
      await server.tessera.outbox.runOnce();
      delivery = exporter.getFinishedSpans().find((s) => s.name === 'mail.deliver');
      if (!delivery) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(delivery, 'mail.deliver span').to.exist;
    expect(delivery!.kind).to.equal(SpanKind.PRODUCER);
    expect(delivery!.attributes['tessera.mail.template']).to.be.a('string');
    const all = exporter.getFinishedSpans().map(shipped).join('\n');
    expect(all.includes(email)).to.equal(false);
    expect(all).not.to.match(/token=/);
  });
});

describe('tracing to an OTLP endpoint', () => {
  it('posts the spans as OTLP protobuf to <endpoint>/v1/traces, flushed at shutdown', async () => {
    const received: { path: string; type: string; body: Buffer }[] = [];
    const collector = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', type: req.headers['content-type'] ?? '', body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    const { TESSERA_PEPPER, TESSERA_MASTER_KEY } = harness().server.env;
    const server = await startTestServer(harness().db, {
      TESSERA_PEPPER,
      TESSERA_MASTER_KEY,
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_SERVICE_NAME: 'tessera-under-test',
    });
    const password = `Traced-Password-${randomBytes(6).toString('hex')}`;
    const email = uniqueEmail('otlp');
    try {
      await registerUser({ email, password, server });
      await call(server.auth, 'login', { email, password });
    } finally {
      await server.close();
      collector.close();
    }
    expect(received.length).to.be.greaterThan(0);
    for (const post of received) {
      expect(post.path).to.equal('/v1/traces');
      expect(post.type).to.equal('application/x-protobuf');
    }
    const bodies = Buffer.concat(received.map((r) => r.body)).toString('latin1');
    expect(bodies).to.include('tessera.v1.AuthService/Login');
    expect(bodies).to.include('tessera-under-test');
    expect(bodies.includes(password)).to.equal(false);
    expect(bodies.includes(email)).to.equal(false);
  });
});
