import { randomUUID } from 'node:crypto';
import { providerSubjectBinding } from '../../src/domain/auth/provider-identity.js';
import { openField } from '../../src/domain/kernel/user-data-keys.js';
import { sqlOn } from './fixtures.js';
import { harness } from './harness.js';
import type { TestServer } from './server.js';

/** A provider link row as stored, with its subject opened by `server`'s keys. */
export interface StoredLink {
  id: string;
  user_id: string;
  provider: string;
  provider_subject_index: string;
  provider_subject_ciphertext: string;
  email_ciphertext: string | null;
  /** Opened from provider_subject_ciphertext. */
  subject: string;
}

/** The blind index `server` stores for (provider, subject). */
export function subjectIndexOf(provider: string, subject: string, server: TestServer = harness().server): string {
  return server.tessera.deps.providerSubjectIndex.of(provider, subject);
}

/** The stored links matching `where` (SQL over social_logins), oldest first, subjects opened. */
export async function storedLinks(
  where: string,
  params: unknown[],
  server: TestServer = harness().server,
): Promise<StoredLink[]> {
  const rows = await sqlOn<Omit<StoredLink, 'subject'>>(
    server,
    `select id::text as id, user_id::text as user_id, provider, provider_subject_index, provider_subject_ciphertext, email_ciphertext
       from social_logins where ${where} order by created_at, id`,
    params,
  );
  const ciphers = await server.tessera.deps.userKeys.forReading(
    server.tessera.orm.em.fork(),
    rows.map((r) => r.user_id),
  );
  return rows.map((r) => ({
    ...r,
    subject: openField(ciphers.get(r.user_id), r.provider_subject_ciphertext, providerSubjectBinding(r.id)),
  }));
}

/** The stored link of (provider, subject), found by its blind index as the service does. */
export async function storedLinkOf(provider: string, subject: string, server: TestServer = harness().server) {
  return (
    await storedLinks(
      'provider = $1 and provider_subject_index = $2',
      [provider, subjectIndexOf(provider, subject, server)],
      server,
    )
  )[0];
}

/** Writes a link in SQL, sealed as the service stores one (for links made before a rule existed). */
export async function plantLink(server: TestServer, userId: string, provider: string, subject: string): Promise<string> {
  const id = randomUUID();
  const cipher = await server.tessera.deps.userKeys.forWriting(server.tessera.orm.em.fork(), userId);
  await sqlOn(
    server,
    `insert into social_logins (id, user_id, provider, provider_subject_index, provider_subject_ciphertext, created_at)
     values ($1, $2, $3, $4, $5, now())`,
    [id, userId, provider, subjectIndexOf(provider, subject, server), cipher.seal(subject, providerSubjectBinding(id))],
  );
  return id;
}
