import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from '../logger.js';

/** One message on its way out. */
interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Our id for the message (the outbox row's), for the Message-ID and logs. */
  id: string;
}

/** Where mail goes: an SMTP server, or files in development. */
export interface MailTransport {
  readonly kind: 'smtp' | 'files';
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/**
 * SMTP_URL set: delivery over SMTP (nodemailer). Unset: development mode,
 * each message is written to `<dataDir>/mail/` as an .eml file and the log
 * says where (never what: the file holds the link's token).
 */
export function createMailTransport(smtpUrl: string | undefined, dataDir: string, log: Logger): MailTransport {
  return smtpUrl ? smtpTransport(smtpUrl) : fileTransport(join(dataDir, 'mail'), log);
}

function smtpTransport(url: string): MailTransport {
  const transporter = nodemailer.createTransport({
    url,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  return {
    kind: 'smtp',
    send: async (mail) => {
      await transporter.sendMail(message(mail));
    },
    close: () => transporter.close(),
  };
}

function fileTransport(dir: string, log: Logger): MailTransport {
  const transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    kind: 'files',
    send: async (mail) => {
      const info = await transporter.sendMail(message(mail));
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${mail.id}.eml`);
      writeFileSync(file, info.message as Buffer, { mode: 0o600 });
      log.info({ file, subject: mail.subject }, 'development mail written (SMTP_URL is not set)');
    },
    close: () => transporter.close(),
  };
}

function message(mail: OutgoingMail) {
  return {
    from: mail.from,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    messageId: `<${mail.id}@tessera>`,
  };
}
