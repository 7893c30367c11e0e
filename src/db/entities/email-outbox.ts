import { defineEntity, type InferEntity } from '@mikro-orm/core';

const EMAIL_OUTBOX_STATUSES = ['pending', 'sent', 'failed'] as const;

/**
 * A mail to send, written in the transaction of the change that causes it, so
 * it is never lost and never sent for a change that rolled back. The payload
 * (recipient, template variables such as a token) is encrypted and removed
 * once the mail was delivered or given up.
 */
export const EmailOutbox = defineEntity({
  name: 'EmailOutbox',
  tableName: 'email_outbox',
  properties: (p) => ({
    id: p.uuid().primary(),
    /** The account the mail concerns (EraseUser deletes its queued mail); null for none. No relation: rows go by SQL. */
    userId: p.uuid().nullable(),
    template: p.text(),
    /** SecretBox ciphertext of the recipient and variables; null once delivered or given up. */
    payloadCiphertext: p.text().nullable(),
    status: p.enum([...EMAIL_OUTBOX_STATUSES]).default('pending'),
    attempts: p.integer().default(0),
    nextAttemptAt: p.datetime(),
    /** The last delivery error, without the message's content. */
    lastError: p.text().nullable(),
    createdAt: p.datetime(),
    sentAt: p.datetime().nullable(),
  }),
  indexes: [
    { name: 'email_outbox_due_index', properties: ['status', 'nextAttemptAt'] },
    { name: 'email_outbox_user_id_index', properties: ['userId'] },
  ],
});

export type EmailOutbox = InferEntity<typeof EmailOutbox>;
