import type { TestDatabase } from './database.js';
import { sql } from './fixtures.js';
import { harness } from './harness.js';

/** The text and JSON columns of every table. */
async function textColumns(db: TestDatabase): Promise<Map<string, string[]>> {
  const rows = await sql<{ table_name: string; column_name: string }>(
    `select c.table_name, c.column_name from information_schema.columns c
       join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
      where c.table_schema = 'public' and t.table_type = 'BASE TABLE'
        and c.data_type in ('text', 'character varying', 'json', 'jsonb')`,
    [],
    db,
  );
  const tables = new Map<string, string[]>();
  for (const r of rows) tables.set(r.table_name, [...(tables.get(r.table_name) ?? []), r.column_name]);
  return tables;
}

/** Where `needle` occurs anywhere in the database (any letter case), as "table.column". One scan per table. */
export async function findEverywhere(needle: string, db: TestDatabase = harness().db): Promise<string[]> {
  const found: string[] = [];
  for (const [table, columns] of await textColumns(db)) {
    const checks = columns.map((c, i) => `coalesce(bool_or(position(lower($1) in lower("${c}"::text)) > 0), false) as c${i}`);
    const [row] = await sql<Record<string, boolean>>(`select ${checks.join(', ')} from "${table}"`, [needle], db);
    columns.forEach((c, i) => {
      if (row![`c${i}`]) found.push(`${table}.${c}`);
    });
  }
  return found.sort();
}
