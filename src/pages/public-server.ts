import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Orm } from '../db/index.js';
import type { DomainDeps, Operation } from '../domain/kernel/operation.js';
import type { Logger } from '../logger.js';
import type { CertificateFiles } from '../tls/certificate-files.js';
import { createHttpListener, type HttpListener } from '../tls/http-listener.js';
import { toServiceError } from '../rpc/errors.js';
import { LinkPages, type PageResponse } from './link-pages.js';
import { messagePage, PAGE_HEADERS } from './page-html.js';

/** A form post holds a token and two passwords: far below this. */
const MAX_FORM_BYTES = 8 * 1024;

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly text: string,
  ) {
    super(title);
  }
}

/**
 * The public listener: the pages behind the links in Tessera's mails
 * (/verify-email, /reset-password). Log lines carry the path, never the
 * query: it holds the token.
 */
export async function startPublicServer(
  host: string,
  port: number,
  app: { deps: DomainDeps; orm: Orm; log: Logger; tls?: CertificateFiles },
): Promise<{ server: HttpListener; port: number }> {
  const pages = new LinkPages();
  const server = createHttpListener((req, res) => {
    const started = process.hrtime.bigint();
    const requestId = randomUUID();
    const url = new URL(req.url ?? '/', 'http://public.invalid');
    const log = app.log.child({ requestId, http: `${req.method} ${url.pathname}` });
    const abort = new AbortController();
    res.once('close', () => abort.abort(new Error('the client went away')));
    route(pages, req, url, pageOperation(app, req, requestId, abort.signal))
      .catch((err: unknown) => {
        if (err instanceof HttpProblem) return { status: err.status, html: messagePage(err.title, err.text, 'error') };
        const mapped = toServiceError(err);
        const e = mapped.domainError;
        log[mapped.level](
          { errorId: e.id, reason: e.reason, err: mapped.level === 'error' ? (e.cause ?? e) : undefined },
          e.message,
        );
        const busy = e.kind === 'unavailable' || e.kind === 'resource_exhausted';
        return busy
          ? {
              status: 503,
              html: messagePage(
                'Please try again',
                'The service is busy or briefly unavailable. Try again in a minute.',
                'error',
              ),
            }
          : { status: 500, html: messagePage('Something went wrong', 'Nothing was changed. Please try again later.', 'error') };
      })
      .then((page) => {
        send(res, page);
        log.info({ status: page.status, ms: Math.round(Number(process.hrtime.bigint() - started) / 1e6) }, 'page');
      });
  }, app.tls);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

async function route(pages: LinkPages, req: IncomingMessage, url: URL, op: Operation): Promise<PageResponse> {
  const page = url.pathname;
  if (page !== '/verify-email' && page !== '/reset-password') {
    throw new HttpProblem(404, 'Page not found', 'There is nothing at this address.');
  }
  if (req.method === 'GET' || req.method === 'HEAD') {
    const token = url.searchParams.get('token') ?? '';
    return page === '/verify-email' ? pages.showVerifyEmail(op, token) : pages.showResetPassword(op, token);
  }
  if (req.method !== 'POST') throw new HttpProblem(405, 'Method not allowed', 'This page only answers GET and POST.');
  checkSameOrigin(req);
  const form = await readForm(req);
  const token = form.get('token') ?? '';
  if (page === '/verify-email') return pages.submitVerifyEmail(op, token);
  return pages.submitResetPassword(op, {
    token,
    newPassword: form.get('new_password') ?? '',
    confirmPassword: form.get('confirm_password') ?? '',
  });
}

/**
 * The token in the form is the capability, so a forged cross-site post would
 * need it already; still, a post must come from these pages. Browsers say
 * where it came from in Sec-Fetch-Site; without it, a real Origin must name
 * this host. Our own form posts `Origin: null` (the pages send no referrer),
 * which alone proves nothing either way.
 */
function checkSameOrigin(req: IncomingMessage): void {
  const site = req.headers['sec-fetch-site'];
  const origin = req.headers.origin;
  let allowed = true;
  if (site !== undefined) allowed = site === 'same-origin' || site === 'none';
  else if (origin !== undefined && origin !== 'null') allowed = URL.canParse(origin) && new URL(origin).host === req.headers.host;
  if (!allowed) {
    throw new HttpProblem(
      403,
      'Request refused',
      'This form can only be sent from its own page. Open the link from the mail again.',
    );
  }
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new HttpProblem(415, 'Unsupported form', 'The form must be sent by the page itself.');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new HttpProblem(413, 'Form too large', 'The form sent more than a page ever needs.');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** A page request's operation: an anonymous visitor, a fresh EntityManager, and the facts audit events record. */
function pageOperation(
  app: { deps: DomainDeps; orm: Orm },
  req: IncomingMessage,
  requestId: string,
  signal: AbortSignal,
): Operation {
  const address = req.socket.remoteAddress ?? null;
  const userAgent = req.headers['user-agent'];
  return {
    deps: app.deps,
    em: app.orm.em.fork(),
    clock: app.deps.clock,
    principal: { kind: 'anonymous' },
    requestId,
    ip: address?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '') ?? null,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 512) : null,
    signal,
  };
}

function send(res: ServerResponse, page: PageResponse): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string> = { ...PAGE_HEADERS };
  if (page.status === 405) headers.allow = 'GET, HEAD, POST';
  res.writeHead(page.status, headers);
  res.end(res.req.method === 'HEAD' ? undefined : page.html);
}
