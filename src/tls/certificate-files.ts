import { experimental, type ServerCredentials } from '@grpc/grpc-js';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import type { Server as HttpsServer } from 'node:https';
import { basename, dirname, resolve } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';

type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

/** Where the server's certificate and key are, and the CA its clients' certificates must come from (mTLS). */
export interface TlsFileSettings {
  certFile: string;
  keyFile: string;
  clientCaFile: string | undefined;
}

/** What a successful (re)load found, for the log: nothing secret. */
export interface LoadedCertificate {
  subject: string;
  serialNumber: string;
  fingerprint256: string;
  validTo: string;
}

interface Material {
  cert: Buffer;
  key: Buffer;
  ca: Buffer | undefined;
}

/** Events in a watched folder are batched: writers replace a pair of files in several steps. */
const WATCH_DEBOUNCE_MS = 200;

/**
 * The TLS certificate, key and client CA, read from files and re-read on
 * demand (SIGHUP) or when the files change. A reload only takes effect when
 * the new files are valid together (the key matches the certificate), so a
 * half-written update keeps the old certificate serving. Live connections
 * keep their session; new handshakes get the new certificate.
 *
 * It is the grpc-js certificate provider of the gRPC listener, and updates the
 * secure context of the HTTPS listeners it serves.
 */
export class CertificateFiles implements experimental.CertificateProvider {
  private material: Material;
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly caListeners = new Set<CaListener>();
  private readonly httpsServers = new Set<HttpsServer>();

  /** Reads the files once; throws when they are missing or do not fit together. */
  constructor(private readonly settings: TlsFileSettings) {
    this.material = readMaterial(settings);
  }

  /** Whether clients must present a certificate from the client CA. */
  get requiresClientCertificate(): boolean {
    return this.settings.clientCaFile !== undefined;
  }

  /** The certificate now served. */
  describe(): LoadedCertificate {
    const x509 = new X509Certificate(this.material.cert);
    return {
      subject: x509.subject,
      serialNumber: x509.serialNumber,
      fingerprint256: x509.fingerprint256,
      validTo: x509.validTo,
    };
  }

  /**
   * Re-reads the files. Returns the new certificate, or undefined when nothing
   * changed; throws (keeping the current one) when the files are invalid.
   */
  reload(): LoadedCertificate | undefined {
    const next = readMaterial(this.settings);
    const same =
      next.cert.equals(this.material.cert) && next.key.equals(this.material.key) && sameBuffer(next.ca, this.material.ca);
    if (same) return undefined;
    this.material = next;
    for (const listener of this.identityListeners) listener(this.identityUpdate());
    for (const listener of this.caListeners) listener(this.caUpdate());
    for (const server of this.httpsServers) server.setSecureContext(this.httpsOptions());
    return this.describe();
  }

  /** Calls `reload` whenever one of the files changes; returns the function that stops watching. */
  watch(onReloaded: (loaded: LoadedCertificate) => void, onError: (err: unknown) => void): () => void {
    const files = [this.settings.certFile, this.settings.keyFile, this.settings.clientCaFile].filter(
      (f): f is string => f !== undefined,
    );
    const names = new Set(files.map((f) => basename(f)));
    let timer: NodeJS.Timeout | undefined;
    const schedule = (filename: string | null) => {
      // Kubernetes swaps a "..data" symlink; editors write temporary files: any event may matter.
      if (filename !== null && !names.has(filename) && !filename.startsWith('..')) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        try {
          const loaded = this.reload();
          if (loaded) onReloaded(loaded);
        } catch (err) {
          onError(err);
        }
      }, WATCH_DEBOUNCE_MS);
      timer.unref();
    };
    // Folders, not files: a replaced file (rename over it) is a new inode a file watch would miss.
    const watchers: FSWatcher[] = [...new Set(files.map((f) => dirname(resolve(f))))].map((dir) =>
      watch(dir, { persistent: false }, (_event, filename) => schedule(filename)).on('error', onError),
    );
    return () => {
      clearTimeout(timer);
      for (const w of watchers) w.close();
    };
  }

  /** Credentials for the gRPC listener; with a client CA, a client without a certificate from it fails the handshake. */
  grpcCredentials(): ServerCredentials {
    // grpc-js names the parameters (ca, identity) but uses them as (identity, ca).
    return experimental.createCertificateProviderServerCredentials(
      this,
      this.requiresClientCertificate ? this : null,
      this.requiresClientCertificate,
    );
  }

  /** Options for an HTTPS listener (no client certificates: browsers and metrics scrapers have none). */
  httpsOptions(): SecureContextOptions {
    return { cert: this.material.cert, key: this.material.key };
  }

  /** Keeps an HTTPS listener's certificate current until it closes. */
  serve(server: HttpsServer): void {
    this.httpsServers.add(server);
    server.once('close', () => this.httpsServers.delete(server));
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    // grpc-js registers its own watcher only after this returns: answer on the next tick.
    queueMicrotask(() => this.identityListeners.has(listener) && listener(this.identityUpdate()));
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    queueMicrotask(() => this.caListeners.has(listener) && listener(this.caUpdate()));
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  private identityUpdate() {
    return { certificate: this.material.cert, privateKey: this.material.key };
  }

  private caUpdate() {
    return this.material.ca ? { caCertificate: this.material.ca } : null;
  }
}

/** Reads and checks the files: parseable, the key belongs to the certificate, and OpenSSL accepts them together. */
function readMaterial(settings: TlsFileSettings): Material {
  const cert = readFileSync(settings.certFile);
  const key = readFileSync(settings.keyFile);
  const ca = settings.clientCaFile ? readFileSync(settings.clientCaFile) : undefined;
  const x509 = new X509Certificate(cert);
  if (!x509.checkPrivateKey(createPrivateKey(key))) {
    throw new Error(`the key in ${settings.keyFile} does not belong to the certificate in ${settings.certFile}`);
  }
  if (ca) new X509Certificate(ca);
  createSecureContext({ cert, key, ca });
  return { cert, key, ca };
}

function sameBuffer(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === undefined || b === undefined ? a === b : a.equals(b);
}
