import type { TestDatabase } from './database.js';
import { sql } from './fixtures.js';
import { harness } from './harness.js';

/** Every text and JSON column of every table, as [table, column]. */
async function textColumns(db: TestDatabase): Promise<[string, string][]> {
  const rows = await sql<{ table_name: string; column_name: string }>(
    `select c.table_name, c.column_name from information_schema.columns c
       join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
      where c.table_schema = 'public' and t.table_type = 'BASE TABLE'
        and c.data_type in ('text', 'character varying', 'json', 'jsonb')`,
    [],
    db,
  );
  return rows.map((r) => [r.table_name, r.column_name]);
}

/** Where `needle` occurs anywhere in the database (any letter case), as "table.column". */
export async function findEverywhere(needle: string, db: TestDatabase = harness().db): Promise<string[]> {
  const found: string[] = [];
  for (const [table, column] of await textColumns(db)) {
    const [row] = await sql<{ n: string }>(
      `select count(*)::text as n from "${table}" where position(lower($1) in lower("${column}"::text)) > 0`,
      [needle],
      db,
    );
    if (Number(row!.n) > 0) found.push(`${table}.${column}`);
  }
  return found;
}
