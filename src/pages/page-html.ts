import { createHash } from 'node:crypto';

/** The pages' only style: inline, allowed by its hash in the Content-Security-Policy (no other source is). */
const STYLE = [
  'body{font-family:system-ui,sans-serif;line-height:1.5;margin:0;background:#f4f5f7;color:#1d2330}',
  'main{max-width:28rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002}',
  'h1{font-size:1.4rem;margin-top:0}',
  'label{display:block;font-weight:600;margin-top:1rem}',
  'input{display:block;width:100%;box-sizing:border-box;font:inherit;padding:.5rem;margin-top:.25rem;border:1px solid #6b7280;border-radius:4px}',
  'input[aria-invalid=true]{border-color:#b42318}',
  'button{font:inherit;margin-top:1.5rem;padding:.6rem 1.2rem;border:0;border-radius:4px;background:#1f4fd1;color:#fff;cursor:pointer}',
  'button:focus-visible,input:focus-visible{outline:3px solid #f5b301;outline-offset:2px}',
  '.hint{color:#4b5563;font-size:.9rem;margin:.25rem 0 0}',
  '.error{color:#b42318;font-weight:600}',
  '.ok{color:#067647;font-weight:600}',
].join('');

/** Every header a page response carries: nothing loads from elsewhere, nothing frames it, nothing is cached or referred. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': [
    "default-src 'none'",
    `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; '),
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
  'cache-control': 'no-store',
};

/** Text safe to place in HTML content and quoted attributes. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A whole page around `body` (already escaped HTML). */
function renderPage(title: string, body: string): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex">',
    `<title>${escapeHtml(title)} · Tessera</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    `<h1>${escapeHtml(title)}</h1>`,
    body,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** A page that only tells the reader something: an outcome, or why a link does not work. */
export function messagePage(title: string, text: string, tone: 'ok' | 'error'): string {
  return renderPage(title, `<p class="${tone}" role="${tone === 'error' ? 'alert' : 'status'}">${escapeHtml(text)}</p>`);
}

/** The confirmation form behind a verification link: the GET shows it, only its POST acts. */
export function verifyEmailForm(token: string): string {
  return renderPage(
    'Confirm your email address',
    [
      '<p>Press the button to confirm this address for your Tessera account.</p>',
      '<form method="post" action="/verify-email">',
      `<input type="hidden" name="token" value="${escapeHtml(token)}">`,
      '<button type="submit">Confirm my address</button>',
      '</form>',
    ].join('\n'),
  );
}

/** The new-password form behind a reset link; `error` is the policy's reason for refusing the last attempt. */
export function resetPasswordForm(token: string, error?: string): string {
  const invalid = error ? ' aria-invalid="true"' : '';
  return renderPage(
    'Choose a new password',
    [
      error ? `<p class="error" role="alert" id="password-error">${escapeHtml(error)}</p>` : '',
      '<form method="post" action="/reset-password">',
      `<input type="hidden" name="token" value="${escapeHtml(token)}">`,
      '<label for="new_password">New password</label>',
      `<input type="password" id="new_password" name="new_password" autocomplete="new-password" required${invalid}` +
        ` aria-describedby="password-hint${error ? ' password-error' : ''}">`,
      '<p class="hint" id="password-hint">At least 8 characters. A long phrase is easier to remember and harder to guess.</p>',
      '<label for="confirm_password">Repeat the new password</label>',
      '<input type="password" id="confirm_password" name="confirm_password" autocomplete="new-password" required>',
      '<button type="submit">Set the new password</button>',
      '</form>',
      '<p class="hint">Setting a new password signs you out on every device.</p>',
    ]
      .filter(Boolean)
      .join('\n'),
  );
}
