import { SpanKind, type Attributes } from '@opentelemetry/api';
import {
  AbstractSqlDriver,
  PostgreSqlConnection,
  PostgreSqlPlatform,
  type Configuration,
  type Knex,
  type LogContext,
  type TransactionEventBroadcaster,
} from '@mikro-orm/postgresql';
import {
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_QUERY_TEXT,
  ATTR_DB_SYSTEM_NAME,
  DB_SYSTEM_NAME_VALUE_POSTGRESQL,
} from '@opentelemetry/semantic-conventions';
import { inSpan } from '../telemetry/spans.js';

const WITH_FIRST_VERB = /^\s*with\s+(?:recursive\s+)?\w+\s+as\s+(?:(?:not\s+)?materialized\s+)?\(\s*(\w+)/i;

/**
 * What a span may say about a statement: its text as written, with `?` or `$n`
 * placeholders, never the values. MikroORM inlines the values into the text it
 * finally sends (so knex's query events and pg-level instrumentation would
 * record emails and hashes); the text before that step is what we keep.
 */
function statementAttributes(text: string): Attributes {
  // A statement of CTEs is named for its first sub-statement: `with a as (insert into users ...)` is an INSERT.
  const operation = (WITH_FIRST_VERB.exec(text) ?? /^\s*(\w+)/.exec(text))?.[1]?.toUpperCase();
  const table = /\b(?:from|into|update|join)\s+"?([\w.]+)"?/i.exec(text)?.[1];
  return {
    [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_POSTGRESQL,
    [ATTR_DB_QUERY_TEXT]: text,
    ...(operation && { [ATTR_DB_OPERATION_NAME]: operation }),
    ...(table && { [ATTR_DB_COLLECTION_NAME]: table }),
  };
}

/** `SELECT users`, or the operation alone (OpenTelemetry's database span names). */
function statementSpanName(attributes: Attributes): string {
  return [attributes[ATTR_DB_OPERATION_NAME] ?? 'SQL', attributes[ATTR_DB_COLLECTION_NAME]].filter(Boolean).join(' ');
}

/** Runs one statement in a client span (only inside a traced operation: see inSpan). */
export function inStatementSpan<T>(text: string, work: () => Promise<T>): Promise<T> {
  const attributes = statementAttributes(text);
  return inSpan(statementSpanName(attributes), attributes, work, { kind: SpanKind.CLIENT });
}

function inTransactionSpan<T>(operation: string, work: () => Promise<T>): Promise<T> {
  const attributes = { [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_POSTGRESQL, [ATTR_DB_OPERATION_NAME]: operation };
  return inSpan(operation, attributes, work, { kind: SpanKind.CLIENT });
}

/** MikroORM's PostgreSQL connection, with a span around every statement and transaction step. */
class TracedPostgreSqlConnection extends PostgreSqlConnection {
  protected override executeQuery<T>(query: string, cb: () => Promise<T>, context?: LogContext): Promise<T> {
    // context.query is the statement before MikroORM inlined its parameters.
    return inStatementSpan(context?.query ?? 'unknown', () => super.executeQuery(query, cb, context));
  }

  override begin(options?: Parameters<PostgreSqlConnection['begin']>[0]): Promise<Knex.Transaction> {
    return inTransactionSpan(options?.ctx ? 'SAVEPOINT' : 'BEGIN', () => super.begin(options));
  }

  override commit(ctx: Knex.Transaction, events?: TransactionEventBroadcaster, logContext?: LogContext): Promise<void> {
    return inTransactionSpan('COMMIT', () => super.commit(ctx, events, logContext));
  }

  override rollback(ctx: Knex.Transaction, events?: TransactionEventBroadcaster, logContext?: LogContext): Promise<void> {
    return inTransactionSpan('ROLLBACK', () => super.rollback(ctx, events, logContext));
  }
}

/** MikroORM's PostgreSQL driver (which adds nothing to the abstract one) on the traced connection. */
export class TracedPostgreSqlDriver extends AbstractSqlDriver<TracedPostgreSqlConnection, PostgreSqlPlatform> {
  constructor(config: Configuration) {
    super(config, new PostgreSqlPlatform(), TracedPostgreSqlConnection, ['knex', 'pg']);
  }
}
