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
 * PostgreSQL's `detail` repeats key values; ORM errors carry the entity
 * (a whole user row). So a logged error keeps only the fields that describe
 * the failure (an allowlist: anything new stays out until it is known to be
 * safe), with statements scrubbed from the text.
 */
const SQL_WITH_VALUES = /(?:insert|update|delete|select|with)\s[\s\S]*? - /gi;
const DESCRIPTIVE_FIELDS = new Set([
  'type',
  'name',
  'message',
  'stack',
  'code',
  'errno',
  'sqlState',
  'severity',
  'constraint',
  'table',
  'column',
  'routine',
  // DomainError: its greppable id, kind, reason and the names of the refused fields.
  'id',
  'kind',
  'reason',
  'violations',
]);

function scrub(text: string): string {
  return text.replace(SQL_WITH_VALUES, '[statement omitted] - ');
}

/** pino's error serializer keeping only descriptive fields, statements scrubbed, recursively through causes. */
export function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const serialized = stdSerializers.err(err) as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(serialized)) {
    if (key === 'cause') out[key] = serializeError((err as { cause?: unknown }).cause);
    else if (!DESCRIPTIVE_FIELDS.has(key)) continue;
    else if (typeof value === 'string') out[key] = scrub(value);
    else out[key] = value;
  }
  return out;
}

/** Lines buffered before a write, and how long a line may wait for its batch. */
const BATCH_BYTES = 16 * 1024;
const BATCH_MAX_DELAY_MS = 200;
/** A collector that stops reading costs lines past this much buffered, not memory without bound. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/**
 * Where the process logs: stdout. `sync: false` for the long-running server:
 * pino's default writes each line with a blocking write(2) on the event loop (the
 * largest item of the Login and GetProfile CPU profiles: on this VM a pipe write
 * costs more than the rest of a read call), and sleeps the whole process when a
 * slow reader fills the pipe. Async lines are written in batches (16 KiB, or
 * 200 ms after the first line), and flushed when the process exits. One-shot commands stay
 * synchronous, so their lines keep their order with what the command prints.
 */
export function stdoutDestination(options: { sync: boolean }): DestinationStream {
  if (options.sync) return pino.destination({ dest: 1, sync: true });
  const stream = pino.destination({ dest: 1, sync: false, maxLength: MAX_BUFFERED_BYTES });
  let lines: string[] = [];
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  const writeBatch = () => {
    clearTimeout(timer);
    timer = undefined;
    if (lines.length === 0) return;
    stream.write(lines.join(''));
    lines = [];
    bytes = 0;
  };
  process.once('exit', () => {
    writeBatch();
    stream.flushSync();
  });
  return {
    write(line: string) {
      lines.push(line);
      bytes += line.length;
      if (bytes >= BATCH_BYTES) writeBatch();
      else timer ??= setTimeout(writeBatch, BATCH_MAX_DELAY_MS).unref();
    },
  };
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
