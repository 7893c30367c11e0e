import type { PeerCertificate } from 'node:tls';

/** What grpc-js server calls offer about the connection's security (its AuthContext, not exported by name). */
interface SecuredCall {
  getAuthContext(): { sslPeerCertificate?: PeerCertificate };
}

/**
 * The URI SANs (e.g. "spiffe://example.org/billing") of the certificate the
 * client presented over mTLS; empty without TLS or without a certificate.
 * grpc-js only completes the handshake for certificates the client CA signed.
 */
export function clientCertificateIdentities(call: SecuredCall): string[] {
  const certificate = call.getAuthContext().sslPeerCertificate;
  const san = certificate?.subjectaltname;
  if (!san) return [];
  // Node renders SANs as 'DNS:a, URI:spiffe://x/y, IP Address:…' (quoting unusual values, which
  // bound identities never are: they hold no comma, space or quote).
  return san
    .split(', ')
    .filter((entry) => entry.startsWith('URI:'))
    .map((entry) => entry.slice('URI:'.length));
}
