import { simpleParser, type ParsedMail } from 'mailparser';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { createTestDatabase, type TestDatabase } from './database.js';
import { startTestServer, type TestServer } from './server.js';

/** A real SMTP server on 127.0.0.1 that keeps every message it accepts, parsed. */
export interface TestSmtpServer {
  port: number;
  messages: ParsedMail[];
  /** Messages addressed to `to`. */
  to(address: string): ParsedMail[];
  /** Waits until a message to `to` has arrived; returns the newest. */
  waitFor(address: string, timeoutMs?: number): Promise<ParsedMail>;
  close(): Promise<void>;
}

/** Starts an SMTP server (no TLS, no auth) on `port` (0: a free one). */
export async function startSmtpServer(port = 0): Promise<TestSmtpServer> {
  const messages: ParsedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onData(stream, _session, done) {
      simpleParser(stream).then(
        (mail) => {
          messages.push(mail);
          done();
        },
        (err: Error) => done(err),
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const to = (address: string) => messages.filter((m) => recipients(m).includes(address));
  return {
    port: (server.server.address() as AddressInfo).port,
    messages,
    to,
    waitFor: async (address, timeoutMs = 5000) => {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = to(address);
        if (found.length > 0) return found.at(-1)!;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no mail to ${address} within ${timeoutMs} ms`);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function recipients(mail: ParsedMail): string[] {
  const to = Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : [];
  return to.flatMap((a) => a.value.map((v) => v.address ?? ''));
}

/** The single-use token a mail links to (the `token` parameter of its link). */
export function tokenFromMail(mail: ParsedMail): string {
  const match = (mail.text ?? '').match(/[?&]token=([A-Za-z0-9_-]+)/);
  if (!match) throw new Error(`no token in mail: ${mail.text}`);
  return match[1];
}

/** A Tessera server on a database of its own, delivering mail to a real SMTP server on loopback. */
export interface MailTestBed {
  db: TestDatabase;
  smtp: TestSmtpServer;
  server: TestServer;
  close(): Promise<void>;
}

/**
 * Starts an SMTP server, a fresh database and a Tessera server mailing through
 * it. The database is its own: the shared server's outbox worker would
 * otherwise claim (and deliver to files) the rows these tests wait for.
 */
export async function startMailTestBed(env: Record<string, string> = {}): Promise<MailTestBed> {
  const smtp = await startSmtpServer();
  const db = await createTestDatabase();
  const server = await startTestServer(db, {
    SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
    MAIL_POLL_INTERVAL_MS: '50',
    PUBLIC_BASE_URL: 'https://id.example.test',
    ...env,
  });
  return {
    db,
    smtp,
    server,
    close: async () => {
      await server.close();
      await smtp.close();
      await db.drop();
    },
  };
}

/**
 * Waits for the newest message to `address` in a development mail folder
 * (`<TESSERA_DATA_DIR>/mail`, where the server writes mail without SMTP_URL).
 */
async function waitForMailFile(dataDir: string, address: string, timeoutMs = 5000): Promise<ParsedMail> {
  const dir = join(dataDir, 'mail');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.eml')) : [];
    const mails = await Promise.all(files.sort().map((f) => simpleParser(readFileSync(join(dir, f)))));
    const found = mails.filter((m) => recipients(m).includes(address));
    if (found.length > 0) return found.at(-1)!;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no mail to ${address} in ${dir} within ${timeoutMs} ms`);
}

/** The first link of a mail's text (the page it asks the reader to open). */
export function linkFromMail(mail: ParsedMail): string {
  const match = (mail.text ?? '').match(/https?:\/\/\S+/);
  if (!match) throw new Error(`no link in mail: ${mail.text}`);
  return match[0];
}

/** A Tessera server on a database of its own with the public pages on and mail written to its data folder. */
export interface PageTestBed {
  db: TestDatabase;
  server: TestServer;
  /** The newest mail to `address` in the server's development mail folder. */
  mailTo(address: string): Promise<ParsedMail>;
  close(): Promise<void>;
}

/**
 * Starts a server whose mailed links point at its own public listener (no
 * PUBLIC_BASE_URL), as `npm start` does in development. Its database is its
 * own, so no other server's outbox worker claims its mail.
 */
export async function startPageTestBed(env: Record<string, string> = {}): Promise<PageTestBed> {
  const db = await createTestDatabase();
  const server = await startTestServer(db, { PUBLIC_HTTP_PORT: '0', MAIL_POLL_INTERVAL_MS: '50', ...env });
  return {
    db,
    server,
    mailTo: (address) => waitForMailFile(server.env.TESSERA_DATA_DIR, address),
    close: async () => {
      await server.close();
      await db.drop();
    },
  };
}
