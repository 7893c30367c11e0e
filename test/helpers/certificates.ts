import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A certificate and its key, as files and as PEM. */
export interface IssuedCertificate {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function issued(certFile: string, keyFile: string): IssuedCertificate {
  return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

/** A self-signed CA made with Debian's openssl, valid for a day, in `dir`. */
export function createCertificateAuthority(dir: string, name: string): IssuedCertificate {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  openssl([
    'req', '-x509', ...EC_KEY, '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]); // prettier-ignore
  return issued(certFile, keyFile);
}

/**
 * A leaf certificate signed by `ca` with a random serial: for a server, an IP
 * SAN of 127.0.0.1; for a client, optionally a URI SAN (its identity).
 */
export function issueCertificate(
  ca: IssuedCertificate,
  dir: string,
  name: string,
  options: { uri?: string } = {},
): IssuedCertificate {
  const base = join(dir, `${name}-${randomBytes(4).toString('hex')}`);
  const extensions = `${base}.ext`;
  const san = ['IP:127.0.0.1', ...(options.uri ? [`URI:${options.uri}`] : [])].join(',');
  writeFileSync(
    extensions,
    [`subjectAltName=${san}`, 'basicConstraints=critical,CA:FALSE', 'extendedKeyUsage=serverAuth,clientAuth', ''].join('\n'),
  );
  openssl(['req', '-new', ...EC_KEY, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${name}`]);
  openssl([
    'x509', '-req', '-in', `${base}.csr`, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-days', '1',
    '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-extfile', extensions, '-out', `${base}.crt`,
  ]); // prettier-ignore
  return issued(`${base}.crt`, `${base}.key`);
}

/** Replaces `target`'s content in one step (write aside, rename over), as deployment tools do. */
export function replaceFile(target: string, content: Buffer): void {
  const aside = `${target}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(aside, content);
  renameSync(aside, target);
}
