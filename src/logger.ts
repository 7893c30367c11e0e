import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Paths that must never reach a log line, even if someone logs a whole request.
 * Censoring by key is a safety net: code logs explicit, non-secret fields.
 */
const REDACTED_KEYS = [
  'password',
  'newPassword',
  'currentPassword',
  'passwordHash',
  'refreshToken',
  'accessToken',
  'token',
  'authorization',
  'pepper',
  'masterKey',
  'privateKey',
];

/** Creates the process logger: JSON lines with secrets censored. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'tessera' },
    redact: {
      paths: [...REDACTED_KEYS, ...REDACTED_KEYS.map((k) => `*.${k}`)],
      censor: '[redacted]',
    },
  });
}
