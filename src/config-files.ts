import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './config-error.js';

type Environment = 'development' | 'test' | 'production';
import type { TlsFileSettings } from './tls/certificate-files.js';

// What the configuration reads or makes besides variables: TLS file settings, the public listener, secrets.

/** TLS needs both a certificate and its key; a client CA (mTLS) needs TLS. */
export function tlsSettings(
  certFile: string | undefined,
  keyFile: string | undefined,
  clientCaFile: string | undefined,
): TlsFileSettings | undefined {
  if (Boolean(certFile) !== Boolean(keyFile)) {
    throw new ConfigError('invalid configuration: TLS_CERT_FILE and TLS_KEY_FILE go together');
  }
  if (!certFile) {
    if (clientCaFile) throw new ConfigError('invalid configuration: TLS_CLIENT_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE');
    return undefined;
  }
  return { certFile, keyFile: keyFile!, clientCaFile };
}

/** The default port of the public listener, where PUBLIC_BASE_URL points by default. */
export const DEFAULT_PUBLIC_HTTP_PORT = 3000;

/**
 * The public pages listen by default in development only, so the links of a
 * fresh `npm start` work; tests and production turn them on explicitly.
 */
export function publicListener(
  env: Environment,
  host: string,
  port: number | null | undefined,
): { host: string; port: number } | undefined {
  if (port === null) return undefined;
  if (port === undefined) return env === 'development' ? { host, port: DEFAULT_PUBLIC_HTTP_PORT } : undefined;
  return { host, port };
}

export function decodeSecret(value: string): Buffer {
  const trimmed = value.trim();
  if (/^[0-9a-fA-F]+$/.test(trimmed) && trimmed.length % 2 === 0) return Buffer.from(trimmed, 'hex');
  return Buffer.from(trimmed, 'base64');
}

/** The secrets every instance of a deployment shares; see the README's Configuration table. */
export interface Secrets {
  pepper: Buffer;
  masterKey: Buffer;
  emailIndexKey: Buffer;
}

export function resolveSecrets(env: Environment, dataDir: string, given: Partial<Secrets>, warn: (msg: string) => void): Secrets {
  const { pepper, masterKey, emailIndexKey } = given;
  if (pepper && masterKey && emailIndexKey) return { pepper, masterKey, emailIndexKey };
  if (env === 'production') {
    const missing = [!pepper && 'TESSERA_PEPPER', !masterKey && 'TESSERA_MASTER_KEY', !emailIndexKey && 'TESSERA_EMAIL_INDEX_KEY']
      .filter(Boolean)
      .join(', ');
    throw new ConfigError(`invalid configuration: ${missing} required when NODE_ENV=production`);
  }
  const dev = loadOrCreateDevSecrets(dataDir, warn);
  return {
    pepper: pepper ?? dev.pepper,
    masterKey: masterKey ?? dev.masterKey,
    emailIndexKey: emailIndexKey ?? dev.emailIndexKey,
  };
}

const SECRET_NAMES = ['pepper', 'masterKey', 'emailIndexKey'] as const;

/**
 * Development secrets live in `<dataDir>/secrets.json`, created once, readable
 * only by the owner. A file from before a secret existed gets it added.
 */
function loadOrCreateDevSecrets(dataDir: string, warn: (msg: string) => void): Secrets {
  const file = join(dataDir, 'secrets.json');
  const exists = existsSync(file);
  const stored: Partial<Record<keyof Secrets, string>> = exists ? JSON.parse(readFileSync(file, 'utf8')) : {};
  if (SECRET_NAMES.every((name) => stored[name])) {
    return Object.fromEntries(SECRET_NAMES.map((name) => [name, Buffer.from(stored[name]!, 'base64')])) as unknown as Secrets;
  }
  // The folder stays traversable: the embedded PostgreSQL runs as another OS user beneath it.
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  const body = Object.fromEntries(SECRET_NAMES.map((name) => [name, stored[name] ?? randomBytes(32).toString('base64')]));
  writeFileSync(file, JSON.stringify(body, null, 2), { mode: 0o600, flag: exists ? 'w' : 'wx' });
  warn(
    `development secrets generated in ${file}; set TESSERA_PEPPER, TESSERA_MASTER_KEY and TESSERA_EMAIL_INDEX_KEY in production`,
  );
  return Object.fromEntries(SECRET_NAMES.map((name) => [name, Buffer.from(body[name]!, 'base64')])) as unknown as Secrets;
}
