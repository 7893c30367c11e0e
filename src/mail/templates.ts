import type { MailTemplate } from '../domain/kernel/outbox.js';

/** A message ready to send. */
export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** A security notice: says what changed and what to do if it was not the reader; no link, no secret. */
interface NoticeText {
  subject: string;
  /** Why the reader got this mail, one paragraph. */
  intro: string;
  outro: string;
}

/** A mail whose link carries a single-use token. */
interface LinkText extends NoticeText {
  action: string;
  /** Path of the page the link opens, on PUBLIC_BASE_URL. */
  path: string;
  validity: string;
}

const IF_NOT_YOU =
  'If this was not you, reset your password now through "Forgot password" and sign out your other sessions; if you cannot, contact your administrator.';

const TEMPLATES: Record<MailTemplate, LinkText | NoticeText> = {
  email_verification: {
    subject: 'Confirm your email address',
    intro: 'Please confirm that this address belongs to your Tessera account.',
    action: 'Confirm my address',
    path: '/verify-email',
    validity: 'The link works once.',
    outro: 'If you did not ask for this, you can ignore this message.',
  },
  email_change: {
    subject: 'Confirm your new email address',
    intro: 'Someone asked to move a Tessera account to this address. The account switches to it once you confirm.',
    action: 'Confirm the new address',
    path: '/verify-email',
    validity: 'The link works once.',
    outro: 'If you did not ask for this, ignore this message: nothing changes.',
  },
  password_reset: {
    subject: 'Reset your password',
    intro: 'Someone asked to reset the password of the Tessera account with this address.',
    action: 'Choose a new password',
    path: '/reset-password',
    validity: 'The link works once and expires soon. Using it signs you out everywhere.',
    outro: 'If you did not ask for this, ignore this message: your password stays as it is.',
  },
  password_changed: {
    subject: 'Your password was changed',
    intro: 'The password of the Tessera account with this address was changed. Your other sessions were signed out.',
    outro: IF_NOT_YOU,
  },
  password_reset_completed: {
    subject: 'Your password was reset',
    intro: 'The password of the Tessera account with this address was reset through a mailed link. Every session was signed out.',
    outro: IF_NOT_YOU,
  },
  email_changed: {
    subject: 'Your email address was changed',
    intro:
      'The Tessera account that used this address has moved to another address. Mail about the account no longer comes here.',
    outro:
      'If this was not you, someone who knew your password has taken the account: contact your administrator at once and quote the time below.',
  },
};

/**
 * Renders a template as plain text and HTML. The link carries the token; the
 * code alone (the token) is printed too, for clients that enter it by hand. A
 * notice says when the change happened (`at`) and carries nothing else.
 */
export function renderMail(template: MailTemplate, variables: Record<string, string>, publicBaseUrl: string): RenderedMail {
  const t = TEMPLATES[template];
  if (!('path' in t)) return renderNotice(t, variables.at ?? '');
  const token = variables.token ?? '';
  const link = `${publicBaseUrl}${t.path}?token=${encodeURIComponent(token)}`;
  const text = [t.intro, '', `${t.action}: ${link}`, '', `Or enter this code: ${token}`, '', t.validity, t.outro, ''].join('\n');
  const html = [
    '<!doctype html>',
    '<html><body style="font-family: sans-serif; line-height: 1.5">',
    `<p>${escapeHtml(t.intro)}</p>`,
    `<p><a href="${escapeHtml(link)}">${escapeHtml(t.action)}</a></p>`,
    `<p>Or enter this code: <code>${escapeHtml(token)}</code></p>`,
    `<p>${escapeHtml(t.validity)} ${escapeHtml(t.outro)}</p>`,
    '</body></html>',
  ].join('\n');
  return { subject: t.subject, text, html };
}

function renderNotice(t: NoticeText, at: string): RenderedMail {
  const when = at === '' ? '' : `When: ${at}`;
  const text = [t.intro, '', when, '', t.outro, ''].join('\n');
  const html = [
    '<!doctype html>',
    '<html><body style="font-family: sans-serif; line-height: 1.5">',
    `<p>${escapeHtml(t.intro)}</p>`,
    `<p>${escapeHtml(when)}</p>`,
    `<p>${escapeHtml(t.outro)}</p>`,
    '</body></html>',
  ].join('\n');
  return { subject: t.subject, text, html };
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
