import type { MailTemplate } from '../domain/kernel/outbox.js';

/** A message ready to send. */
export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

interface TemplateText {
  subject: string;
  /** Why the reader got this mail, one paragraph. */
  intro: string;
  /** The link's text and the path of the page it opens, on PUBLIC_BASE_URL; notices have no link. */
  link?: { action: string; path: string };
  validity: string;
  outro: string;
}

const TEMPLATES: Record<MailTemplate, TemplateText> = {
  email_verification: {
    subject: 'Confirm your email address',
    intro: 'Please confirm that this address belongs to your Tessera account.',
    link: { action: 'Confirm my address', path: '/verify-email' },
    validity: 'The link works once.',
    outro: 'If you did not ask for this, you can ignore this message.',
  },
  email_change: {
    subject: 'Confirm your new email address',
    intro: 'Someone asked to move a Tessera account to this address. The account switches to it once you confirm.',
    link: { action: 'Confirm the new address', path: '/verify-email' },
    validity: 'The link works once.',
    outro: 'If you did not ask for this, ignore this message: nothing changes.',
  },
  password_reset: {
    subject: 'Reset your password',
    intro: 'Someone asked to reset the password of the Tessera account with this address.',
    link: { action: 'Choose a new password', path: '/reset-password' },
    validity: 'The link works once and expires soon. Using it signs you out everywhere.',
    outro: 'If you did not ask for this, ignore this message: your password stays as it is.',
  },
  sign_in_locked: {
    subject: 'Sign-in to your account is paused',
    intro:
      'Several wrong passwords were entered for the Tessera account with this address, so signing in with a password is paused for a while.',
    validity: 'It resumes by itself; more wrong passwords lengthen the pause.',
    outro:
      'If this was not you, someone may be guessing your password: once you can sign in, make sure it is long and used nowhere else.',
  },
};

/**
 * Renders a template as plain text and HTML. The link carries the token; the
 * code alone (the token) is printed too, for clients that enter it by hand.
 */
export function renderMail(template: MailTemplate, variables: Record<string, string>, publicBaseUrl: string): RenderedMail {
  const t = TEMPLATES[template];
  const token = variables.token ?? '';
  const link = t.link && { action: t.link.action, url: `${publicBaseUrl}${t.link.path}?token=${encodeURIComponent(token)}` };
  const linkText = link ? [`${link.action}: ${link.url}`, '', `Or enter this code: ${token}`, ''] : [];
  const text = [t.intro, '', ...linkText, t.validity, t.outro, ''].join('\n');
  const linkHtml = link
    ? [
        `<p><a href="${escapeHtml(link.url)}">${escapeHtml(link.action)}</a></p>`,
        `<p>Or enter this code: <code>${escapeHtml(token)}</code></p>`,
      ]
    : [];
  const html = [
    '<!doctype html>',
    '<html><body style="font-family: sans-serif; line-height: 1.5">',
    `<p>${escapeHtml(t.intro)}</p>`,
    ...linkHtml,
    `<p>${escapeHtml(t.validity)} ${escapeHtml(t.outro)}</p>`,
    '</body></html>',
  ].join('\n');
  return { subject: t.subject, text, html };
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
