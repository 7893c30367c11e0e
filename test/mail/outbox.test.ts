import { expect } from 'chai';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findEverywhere } from '../helpers/database-sweep.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { registerUser, sql } from '../helpers/fixtures.js';
import { startSmtpServer, tokenFromMail, type TestSmtpServer } from '../helpers/mail.js';
import { freePort } from '../helpers/process.js';
import { call, startTestServer, type TestServer } from '../helpers/server.js';

interface OutboxRow {
  status: string;
  attempts: number;
  payload_ciphertext: string | null;
  last_error: string | null;
  sent_at: Date | null;
}

describe('Email outbox', () => {
  describe('with SMTP down while a password reset is requested', () => {
    let db: TestDatabase;
    let server: TestServer;
    let smtp: TestSmtpServer | undefined;
    let smtpPort: number;

    before(async () => {
      db = await createTestDatabase();
      smtpPort = await freePort();
      server = await startTestServer(db, {
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        MAIL_POLL_INTERVAL_MS: '50',
        MAIL_RETRY_BASE_SECONDS: '30',
      });
    });
    after(async () => {
      await server.close();
      await smtp?.close();
      await db.drop();
    });

    it('answers the request, keeps the mail, and delivers it exactly once when SMTP is back', async () => {
      const { email } = await registerUser({ server });

      await call(server.auth, 'requestPasswordReset', { email });

      // The first attempt fails (nothing listens) and schedules a retry 30 s later.
      const failed = await waitForRow(db, (r) => r.attempts >= 1);
      expect(failed.status).to.equal('pending');
      expect(failed.last_error).to.match(/ECONNREFUSED/);
      expect(failed.payload_ciphertext).to.match(/^v1\./);
      expect(failed.payload_ciphertext).to.not.include(email);

      smtp = await startSmtpServer(smtpPort);
      await server.tessera.outbox.runOnce();
      expect(smtp.messages, 'not due before the backoff has passed').to.have.length(0);

      server.clock.advance(31);
      const mail = await smtp.waitFor(email);
      expect(tokenFromMail(mail)).to.match(/^tpr_/);

      // Later polls find nothing left to send.
      await new Promise((r) => setTimeout(r, 300));
      await server.tessera.outbox.runOnce();
      expect(smtp.to(email)).to.have.length(1);
      const [row] = await sql<OutboxRow>('select * from email_outbox', [], db);
      expect(row.status).to.equal('sent');
      expect(row.sent_at).to.be.instanceOf(Date);
      expect(row.payload_ciphertext, 'the payload is deleted after delivery').to.equal(null);
      expect(row.attempts).to.equal(2);
    });
  });

  describe('with an SMTP server that rejects the recipient, naming it in its reply', () => {
    let db: TestDatabase;
    let server: TestServer;
    let smtp: SMTPServer;

    before(async () => {
      db = await createTestDatabase();
      // As Postfix answers an unknown mailbox: the address is quoted back.
      smtp = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        onRcptTo: (address, _session, callback) =>
          callback(
            Object.assign(new Error(`5.1.1 <${address.address}>: Recipient address rejected: User unknown`), {
              responseCode: 550,
            }),
          ),
      });
      const smtpPort = await freePort();
      await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve));
      server = await startTestServer(db, {
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        MAIL_POLL_INTERVAL_MS: '50',
        MAIL_RETRY_BASE_SECONDS: '30',
        LOG_LEVEL: 'debug',
      });
    });
    after(async () => {
      await server.close();
      await new Promise<void>((resolve) => smtp.close(resolve));
      await db.drop();
    });

    it('keeps the reason of the failure without the address: not in last_error, not in the log', async () => {
      const { email } = await registerUser({ server });
      await call(server.auth, 'requestPasswordReset', { email });

      const failed = await waitForRow(db, (r) => r.attempts >= 1);
      expect(failed.status).to.equal('pending');
      expect(failed.last_error).to.match(/Recipient address rejected/);
      expect(failed.last_error).to.not.include(email);
      expect(await findEverywhere(email, db)).to.deep.equal([]);
      expect(server.logs.text()).to.include('mail delivery failed').and.not.include(email);
    });
  });

  describe('without SMTP_URL (development)', () => {
    it('writes each message to <dataDir>/mail and logs the file, never the token', async () => {
      const db = await createTestDatabase();
      const server = await startTestServer(db, { MAIL_POLL_INTERVAL_MS: '50' });
      try {
        const { email } = await registerUser({ server });
        await call(server.auth, 'requestPasswordReset', { email });

        const dir = join(server.env.TESSERA_DATA_DIR, 'mail');
        const file = await waitFor(() => readdirSafe(dir).find((f) => f.endsWith('.eml')));
        const mail = await simpleParser(readFileSync(join(dir, file)));
        expect(mail.to).to.deep.include({ text: email });
        expect(mail.html, 'an HTML part beside the plain text').to.be.a('string').and.include('reset-password?token=');
        const token = tokenFromMail(mail);
        const logLine = server.logs.lines.find((l) => l.includes('development mail written'))!;
        expect(logLine).to.include(file);
        expect(server.logs.text()).to.not.include(token);
      } finally {
        await server.close();
        await db.drop();
      }
    });
  });
});

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

function waitForRow(db: TestDatabase, predicate: (row: OutboxRow) => boolean): Promise<OutboxRow> {
  return waitFor(async () => (await sql<OutboxRow>('select * from email_outbox', [], db)).find(predicate));
}
