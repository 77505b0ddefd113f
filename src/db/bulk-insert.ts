import { CompiledQuery, PostgresAdapter, sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * Inserts many rows of one table in as few statements as the engine allows. Every row must have
 * the same columns; the engine is the connection's own. SQLite: multi-row VALUES under its bound-parameter limit (32766).
 * PostgreSQL: `insert ... select * from unnest($1::text[], ...)`, one array per column, instead
 * of a VALUES list of ~30,000 scalar parameters: one small statement to parse and plan per
 * 10,000 rows, and less work building it here (about 10 % less CPU, measured at 100,000 users).
 */
export async function insertMany<T extends keyof Database>(
  db: Kysely<Database>,
  table: T,
  rows: readonly Database[T][],
  /** Rows whose `key` already exists replace these columns of it instead. */
  upsert?: { key: (keyof Database[T] & string)[]; update: (keyof Database[T] & string)[] },
): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  const onConflict = upsert
    ? ` on conflict (${upsert.key.map((c) => `"${c}"`).join(', ')}) do update set ${upsert.update.map((c) => `"${c}" = excluded."${c}"`).join(', ')}`
    : '';
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  // PostgreSQL: many rows go as one array per column; a few (single writes) as plain VALUES,
  // which PostgreSQL plans faster than an unnest.
  if (postgres && rows.length > 20) {
    for (let i = 0; i < rows.length; i += 10_000) {
      const chunk = rows.slice(i, i + 10_000) as unknown as Record<string, unknown>[];
      const arrays = columns.map((c) => {
        const values = chunk.map((r) => r[c] ?? null);
        const type = values.some((v) => typeof v === 'number') ? 'int8' : 'text';
        return sql`${values}::${sql.raw(type)}[]`;
      });
      await sql`insert into ${sql.table(table)} (${sql.join(columns.map((c) => sql.ref(c)))}) select * from unnest(${sql.join(arrays)})${sql.raw(onConflict)}`.execute(
        db,
      );
    }
    return;
  }
  const perStatement = Math.max(1, Math.floor(30000 / columns.length));
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.slice(i, i + perStatement) as unknown as Record<string, unknown>[];
    const parameters: unknown[] = [];
    for (const row of chunk) for (const c of columns) parameters.push(row[c] ?? null);
    await db.executeQuery(CompiledQuery.raw(valuesInsert(table, columns, chunk.length, postgres) + onConflict, parameters));
  }
}

const valuesInserts = new Map<string, string>();

/**
 * `insert into "table" ("a", "b") values (?, ?), (?, ?)` (PostgreSQL: `$1, $2`) for `rowCount`
 * rows, built once per shape: Kysely's builder spends more time on a many-row insert than SQLite
 * spends executing it. Table and column names come from our own row types, never from input.
 */
function valuesInsert(table: string, columns: string[], rowCount: number, postgres: boolean): string {
  const shape = `${postgres ? 'pg' : 'sqlite'}:${table}(${columns.join(',')})${rowCount}`;
  let text = valuesInserts.get(shape);
  if (!text) {
    let n = 0;
    const tuples = Array.from({ length: rowCount }, () => `(${columns.map(() => (postgres ? `$${++n}` : '?')).join(', ')})`);
    text = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values ${tuples.join(', ')}`;
    // Bounded: row counts of single and chunked inserts repeat, the rest are last chunks.
    if (valuesInserts.size >= 1000) valuesInserts.clear();
    valuesInserts.set(shape, text);
  }
  return text;
}
