import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';

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

/**
 * Database errors carry the failing statement with its parameters inlined
 * ("insert into users (...) values (..., '$argon2id$...') - <reason>"), and
 * PostgreSQL's `detail` repeats key values. Logged errors keep the reason,
 * code, constraint and stack frames, never the values.
 */
const SQL_WITH_VALUES = /(?:insert|update|delete|select|with)\s[\s\S]*? - /gi;
const VALUE_BEARING_FIELDS = ['detail', 'where', 'internalQuery', 'parameters', 'params', 'sql', 'query'];

function scrub(text: string): string {
  return text.replace(SQL_WITH_VALUES, '[statement omitted] - ');
}

/** pino's error serializer with statements and value-bearing fields removed, recursively through causes. */
export function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const serialized = stdSerializers.err(err) as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(serialized)) {
    if (VALUE_BEARING_FIELDS.includes(key)) continue;
    if (typeof value === 'string') out[key] = scrub(value);
    else if (key === 'cause') out[key] = serializeError((err as { cause?: unknown }).cause);
    else out[key] = value;
  }
  return out;
}

/** Creates the process logger: JSON lines with secrets censored. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'tessera' },
      serializers: { err: serializeError },
      redact: {
        paths: [...REDACTED_KEYS, ...REDACTED_KEYS.map((k) => `*.${k}`)],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
