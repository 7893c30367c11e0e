import { v7 as uuidv7 } from 'uuid';
import { EmailOutbox } from '../../db/index.js';
import type { UnitOfWork } from './unit-of-work.js';

/**
 * The messages Tessera sends; each has a plain-text and an HTML template
 * (src/mail/templates.ts). The first three carry a single-use link; the
 * others are security notices that carry no secret.
 */
export const MAIL_TEMPLATES = [
  'email_verification',
  'email_change',
  'password_reset',
  'password_changed',
  'password_reset_completed',
  'email_changed',
  'sign_in_locked',
] as const;
export type MailTemplate = (typeof MAIL_TEMPLATES)[number];

/** What a queued message carries, encrypted at rest: the recipient and the template's variables. */
export interface MailPayload {
  to: string;
  /** e.g. { token }: the single-use secret the message links to; { at }: when a notified change happened (ISO 8601). */
  variables: Record<string, string>;
}

/**
 * Queues a message in the caller's transaction (the outbox pattern): it is
 * sent after commit by the outbox worker, never for a change that rolled back,
 * and survives an SMTP outage. The payload is encrypted and bound to the row;
 * `userId` names the account it concerns, so erasing the account deletes it.
 */
export function queueEmail(uow: UnitOfWork, template: MailTemplate, payload: MailPayload, userId: string | null): void {
  const id = uuidv7();
  const now = uow.clock.now();
  uow.em.create(EmailOutbox, {
    id,
    userId,
    template,
    payloadCiphertext: uow.deps.outboxBox.seal(JSON.stringify(payload), id),
    status: 'pending',
    attempts: 0,
    nextAttemptAt: now,
    lastError: null,
    createdAt: now,
    sentAt: null,
  });
}
