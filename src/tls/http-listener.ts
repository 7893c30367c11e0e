import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { CertificateFiles } from './certificate-files.js';

/** An HTTP listener, over TLS when the service has a certificate. */
export type HttpListener = Server | HttpsServer;

/** HTTPS with `tls` (its certificate kept current on reloads), plain HTTP without. */
export function createHttpListener(handler: RequestListener, tls: CertificateFiles | undefined): HttpListener {
  if (!tls) return createServer(handler);
  const server = createHttpsServer(tls.httpsOptions(), handler);
  tls.serve(server);
  return server;
}
