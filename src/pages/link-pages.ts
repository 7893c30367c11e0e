import type { OneTimeTokenPurpose } from '../db/index.js';
import { verifyEmail } from '../domain/auth/email-verification.js';
import { oneTimeTokenStatus, type OneTimeTokenStatus } from '../domain/auth/one-time-token-status.js';
import { resetPassword } from '../domain/auth/password-changes.js';
import { DomainError } from '../domain/kernel/errors.js';
import type { Operation } from '../domain/kernel/operation.js';
import { openUserEmail } from '../domain/kernel/user-email.js';
import { messagePage, resetPasswordForm, verifyEmailForm } from './page-html.js';

/** A page to send: its HTTP status and HTML. */
export interface PageResponse {
  status: number;
  html: string;
}

/** What the reader is told when a link does not work, by why. */
const BROKEN_LINK: Record<Exclude<OneTimeTokenStatus, 'usable'>, { status: number; title: string; text: string }> = {
  expired: {
    status: 410,
    title: 'This link has expired',
    text: 'For your safety the link only works for a short time. Ask for a new one from the app and use the newest mail.',
  },
  used: {
    status: 410,
    title: 'This link has already been used',
    text: 'Each link works once, and a newer mail replaces the older ones. If you still need to, ask for a new link.',
  },
  invalid: {
    status: 404,
    title: 'This link is not valid',
    text: 'The link may be incomplete: open it straight from the mail, or copy the whole address. You can also ask for a new one.',
  },
};

const VERIFY_PURPOSES: OneTimeTokenPurpose[] = ['email_verification', 'email_change'];
const RESET_PURPOSES: OneTimeTokenPurpose[] = ['password_reset'];

/**
 * The pages behind the mailed links. A GET only looks the token up and shows
 * a form (mail scanners follow links); the form's POST acts, through the same
 * domain operations as AuthService.VerifyEmail and ResetPassword.
 */
export class LinkPages {
  /** GET /verify-email?token=...: a confirmation button, or why the link does not work. */
  async showVerifyEmail(op: Operation, token: string): Promise<PageResponse> {
    const state = await oneTimeTokenStatus(op, token, VERIFY_PURPOSES);
    return state === 'usable' ? { status: 200, html: verifyEmailForm(token) } : brokenLink(state);
  }

  /** POST /verify-email: uses the token. */
  async submitVerifyEmail(op: Operation, token: string): Promise<PageResponse> {
    try {
      const user = await verifyEmail(op, token);
      const email = await openUserEmail(op, user);
      return ok('Email address confirmed', `${email} is now the confirmed address of your Tessera account.`);
    } catch (err) {
      if (isInvalidToken(err)) return brokenLink(await this.explain(op, token, VERIFY_PURPOSES));
      if (err instanceof DomainError && err.reason === 'EMAIL_TAKEN') {
        return {
          status: 409,
          html: messagePage('Address already in use', 'Another account now uses this address, so it cannot move here.', 'error'),
        };
      }
      throw err;
    }
  }

  /** GET /reset-password?token=...: the new-password form, or why the link does not work. */
  async showResetPassword(op: Operation, token: string): Promise<PageResponse> {
    const state = await oneTimeTokenStatus(op, token, RESET_PURPOSES);
    return state === 'usable' ? { status: 200, html: resetPasswordForm(token) } : brokenLink(state);
  }

  /** POST /reset-password: checks the new password by the API's policy and uses the token. */
  async submitResetPassword(
    op: Operation,
    form: { token: string; newPassword: string; confirmPassword: string },
  ): Promise<PageResponse> {
    if (form.newPassword !== form.confirmPassword) {
      return { status: 422, html: resetPasswordForm(form.token, 'The two passwords differ. Type the same one twice.') };
    }
    try {
      const result = await resetPassword(op, { token: form.token, newPassword: form.newPassword });
      const signedOut = result.sessionsRevoked === 1 ? '1 session was' : `${result.sessionsRevoked} sessions were`;
      return ok('Password changed', `Your new password works now. ${signedOut} signed out; sign in again with the new password.`);
    } catch (err) {
      if (isInvalidToken(err)) return brokenLink(await this.explain(op, form.token, RESET_PURPOSES));
      const weak = err instanceof DomainError ? err.violations.find((v) => v.field === 'new_password') : undefined;
      if (weak)
        return { status: 422, html: resetPasswordForm(form.token, `This password cannot be used: it ${weak.description}.`) };
      throw err;
    }
  }

  /** Why a token the operation refused does not work (a usable one lost a race to another use). */
  private async explain(op: Operation, token: string, purposes: OneTimeTokenPurpose[]) {
    const state = await oneTimeTokenStatus({ ...op, em: op.em.fork() }, token, purposes);
    return state === 'usable' ? 'used' : state;
  }
}

function isInvalidToken(err: unknown): boolean {
  return err instanceof DomainError && err.reason === 'INVALID_ONE_TIME_TOKEN';
}

function brokenLink(state: Exclude<OneTimeTokenStatus, 'usable'>): PageResponse {
  const page = BROKEN_LINK[state];
  return { status: page.status, html: messagePage(page.title, page.text, 'error') };
}

function ok(title: string, text: string): PageResponse {
  return { status: 200, html: messagePage(title, text, 'ok') };
}
