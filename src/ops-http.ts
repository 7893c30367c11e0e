import type { AddressInfo } from 'node:net';
import type { CertificateFiles } from './tls/certificate-files.js';
import { createHttpListener, type HttpListener } from './tls/http-listener.js';
import type { Metrics } from './metrics.js';
import type { PublicJwk } from './crypto/tokens.js';

export interface OpsEndpoints {
  metrics: Metrics;
  /** What did not answer the last health check (`database`, `key store`); empty when both did. */
  unavailable(): string[];
  /** Whether the rate limit counters can be reached (always, without Redis). */
  limitsReachable(): boolean;
  jwks(): PublicJwk[];
}

/**
 * The operations port: /metrics (Prometheus), /healthz (process alive),
 * /readyz (database and key store reachable) and /.well-known/jwks.json.
 *
 * An unreachable Redis is reported on /readyz but leaves it 200: every
 * instance shares that Redis, so failing readiness would take all of them
 * out of rotation, and with them every call that needs no guess count
 * (token checks, profiles), which still work.
 */
export async function startOpsServer(
  host: string,
  port: number,
  ops: OpsEndpoints,
  tls?: CertificateFiles,
): Promise<{ server: HttpListener; port: number }> {
  const server = createHttpListener((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, type: string, body: string) => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, 'text/plain', 'method not allowed\n');
    switch (path) {
      case '/healthz':
        return send(200, 'text/plain', 'ok\n');
      case '/readyz': {
        const down = ops.unavailable();
        if (down.length > 0) return send(503, 'text/plain', `${down.join(', ')} unavailable\n`);
        if (!ops.limitsReachable()) {
          return send(200, 'text/plain', 'ready, degraded: rate limit store unreachable (sign-ins answer UNAVAILABLE)\n');
        }
        return send(200, 'text/plain', 'ready\n');
      }
      case '/.well-known/jwks.json':
        res.setHeader('cache-control', 'public, max-age=300');
        res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
        return res.end(JSON.stringify({ keys: ops.jwks() }));
      case '/metrics':
        ops.metrics.registry.metrics().then(
          (body) => send(200, ops.metrics.registry.contentType, body),
          () => send(500, 'text/plain', 'metrics unavailable\n'),
        );
        return;
      default:
        return send(404, 'text/plain', 'not found\n');
    }
  }, tls);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
