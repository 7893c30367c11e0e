import {
  readAuditEvents,
  Session,
  summarizeSecondFactors,
  type AuditEvent,
  type SecondFactorSummary,
  type SocialLogin,
  type User,
} from '../../db/index.js';
import { listSocialLogins } from '../auth/social-logins.js';
import { openSocialLogins, type OpenedSocialLogin } from '../auth/provider-identity.js';
import { openUserEmail } from '../kernel/user-email.js';
import { toSessionView, type SessionView } from '../auth/session-management.js';
import { getUser } from '../identity/users.js';
import { getProfile, type ProfileView } from '../profile/profiles.js';
import { revealAuditEvents } from '../kernel/audit-personal-data.js';
import { AuditEventType } from '../kernel/audit-record.js';
import type { Operation } from '../kernel/operation.js';
import { inTransaction } from '../kernel/unit-of-work.js';

/** Audit events read per query: memory stays bounded whatever the history's length. */
const AUDIT_PAGE = 500;

/** One part of an export. */
export type ExportPart =
  | { kind: 'account'; account: User; email: string }
  | { kind: 'profile'; profile: ProfileView }
  | { kind: 'socialLogin'; socialLogin: SocialLogin; opened: OpenedSocialLogin }
  | { kind: 'secondFactors'; secondFactors: SecondFactorSummary }
  | { kind: 'session'; session: SessionView }
  | { kind: 'auditEvent'; auditEvent: AuditEvent };

/**
 * Everything held about an account, part by part: the account, its profile
 * (decrypted), provider logins, the second factors enrolled (whether and
 * when, never a secret or a code), sessions, then its audit events oldest first,
 * page by page. The caller's own, or another's with "users:read" (the
 * checks of getUser). Audited as `user.exported` (who exported whose data).
 */
export async function* exportUserData(op: Operation, requestedUserId: string): AsyncGenerator<ExportPart> {
  const account = await getUser(op, requestedUserId);
  const userId = account.id;
  // Once access is granted and before the first part leaves: an export cut short still happened.
  await inTransaction(op, async (uow) => {
    uow.record({ type: AuditEventType.userExported, subjectUserId: userId });
  });
  yield { kind: 'account', account, email: await openUserEmail(op, account) };
  yield { kind: 'profile', profile: await getProfile(op, userId) };
  const links = await listSocialLogins(op, userId);
  const opened = await openSocialLogins(op, links);
  for (const socialLogin of links) yield { kind: 'socialLogin', socialLogin, opened: opened.get(socialLogin.id)! };
  yield { kind: 'secondFactors', secondFactors: await summarizeSecondFactors(op.em, userId) };
  const cipher = (await op.deps.userKeys.forReading(op.em, [userId])).get(userId);
  const sessions = await op.em.find(Session, { user: userId }, { orderBy: { id: 'asc' } });
  for (const s of sessions) {
    const current = op.principal.kind === 'user' ? op.principal.sessionId : undefined;
    yield { kind: 'session', session: toSessionView(s, cipher, current) };
  }
  let afterId = '0';
  for (;;) {
    op.signal.throwIfAborted();
    const page = await readAuditEvents(op.em, { subjectUserId: userId, afterId, order: 'asc', limit: AUDIT_PAGE });
    for (const auditEvent of await revealAuditEvents(op.em, op.deps.userKeys, page)) yield { kind: 'auditEvent', auditEvent };
    if (page.length < AUDIT_PAGE) return;
    afterId = page[page.length - 1]!.id;
  }
}
