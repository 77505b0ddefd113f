import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresAdapter, PostgresDialect, SqliteDialect, sql, type Migration, type MigrationProvider } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { startWalCheckpointer } from './wal-checkpointer.js';
import * as m0001 from './migrations/2026-11-23-0001-directory.js';
import * as m0002 from './migrations/2026-11-23-0002-invitations.js';
import * as m0003 from './migrations/2026-11-23-0003-bulk-invitations.js';
import * as m0004 from './migrations/2026-11-23-0004-apps.js';
import * as m0006 from './migrations/2026-11-23-0006-collaboration.js';
import * as m0007 from './migrations/2026-11-23-0007-mail-templates.js';
import * as m0008 from './migrations/2026-11-24-0008-sqlite-without-rowid.js';
import * as m0009 from './migrations/2026-11-24-0009-search-terms-by-key.js';
import * as m0010 from './migrations/2026-11-24-0010-bulk-line-cursor.js';
import * as m0011 from './migrations/2026-12-06-0011-sign-in-lockouts.js';
import * as m0012 from './migrations/2026-12-06-0012-client-lifecycle.js';

export type Engine = 'sqlite' | 'postgres';
export type Db = Kysely<Database>;

export interface DatabaseHandle {
  db: Db;
  engine: Engine;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; without it an embedded SQLite file is used. */
  databaseUrl: string | null;
  /** Folder for the SQLite file. */
  dataDir: string;
  /** PostgreSQL schema to use instead of public (tests isolate each file this way). */
  pgSchema?: string;
  /** SQLite file name or ':memory:'. */
  sqliteFile?: string;
  /** PostgreSQL: most connections this process opens (default 10). */
  poolSize?: number;
  /** PostgreSQL: how long a query waits for a connection (a new one, or a free one of the pool) before it fails (default 5 s). */
  connectTimeoutMs?: number;
  /** SQLite: checkpoint the write-ahead log from a background thread (long-running servers). */
  backgroundCheckpoints?: boolean;
}

/** Opens the configured database (not yet migrated). */
export function openDatabase(options: DatabaseOptions): DatabaseHandle {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      // Without a bound a request waits forever while PostgreSQL is unreachable; with it, it fails
      // and is answered 503 (also when every connection stays busy that long).
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      // Finds connections a proxy, a firewall or a failover dropped without a word, and keeps NAT entries alive.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      // Names Foyer's sessions in pg_stat_activity; an application_name in DATABASE_URL wins.
      application_name: 'foyer',
      ...(options.pgSchema ? { options: `-c search_path=${options.pgSchema},public` } : {}),
    });
    // pg emits a lost connection as an 'error' event: on the pool for an idle connection, on the
    // client for one in use. Unheard, either ends the process. The pool has already dropped an idle
    // one; a query on one in use fails on its own (and is answered 503), and the pool drops that
    // connection when it comes back.
    pool.on('error', (error) => console.error(`PostgreSQL connection lost (a new one is opened when needed): ${error.message}`));
    pool.on('connect', (client) => client.on('error', () => {}));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, engine: 'postgres', close: () => db.destroy() };
  }
  const file = options.sqliteFile ?? path.join(options.dataDir, 'foyer.db');
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new SqliteDatabase(file);
  // 16 KiB pages for a new database (an existing one keeps its own). A commit writes each changed
  // page to the log as a frame of its own; a new guest adds entries to some 45 b-trees at
  // scattered places, so a batch of them changes thousands of pages, and with bigger pages fewer.
  // Measured: 100,000 bulk invitations in 12 s instead of 13.4 to 15 s with 4 KiB pages; single
  // invitations, a few per commit, about a tenth slower (see docs/architecture.md).
  sqlite.pragma('page_size = 16384');
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('cache_size = -65536');
  // A commit checkpoints only past 16,384 pages of log (256 MiB with 16 KiB pages) instead of
  // 1,000: a checkpoint runs inside the commit that crosses the threshold, and a page changed many
  // times between two checkpoints is copied once. The background checkpointer, where it runs,
  // checkpoints long before, outside any commit.
  sqlite.pragma('wal_autocheckpoint = 16384');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  const checkpointer = options.backgroundCheckpoints && file !== ':memory:' ? startWalCheckpointer(file) : null;
  return {
    db,
    engine: 'sqlite',
    close: async () => {
      await checkpointer?.stop();
      await db.destroy();
    },
  };
}

/**
 * Kysely prepares every statement anew; compiling SQL is a tenth of a write's cost. Reusing
 * prepared statements is safe because Kysely runs one query at a time on this connection.
 */
function withStatementCache(sqlite: SqliteDatabase.Database, size = 500) {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      // Kysely opens transactions with a deferred BEGIN; one that reads and then writes cannot
      // wait for a checkpoint or another process and fails with SQLITE_BUSY at once. IMMEDIATE
      // takes the write lock up front, where busy_timeout applies.
      const sql = text === 'begin' ? 'begin immediate' : text;
      let statement = cache.get(sql);
      if (!statement) {
        statement = sqlite.prepare(sql);
        if (cache.size >= size) cache.delete(cache.keys().next().value!);
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

const migrations: Record<string, Migration> = {
  '2026-11-23-0001-directory': m0001,
  '2026-11-23-0002-invitations': m0002,
  '2026-11-23-0003-bulk-invitations': m0003,
  '2026-11-23-0004-apps': m0004,
  '2026-11-23-0006-collaboration': m0006,
  '2026-11-23-0007-mail-templates': m0007,
  '2026-11-24-0008-sqlite-without-rowid': m0008,
  '2026-11-24-0009-search-terms-by-key': m0009,
  '2026-11-24-0010-bulk-line-cursor': m0010,
  '2026-12-06-0011-sign-in-lockouts': m0011,
  '2026-12-06-0012-client-lifecycle': m0012,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/**
 * Brings the schema up to date, or up to the migration named `upTo` (tests of a migration over
 * existing data); safe to run from several processes at once (Kysely locks).
 */
export async function migrateToLatest(db: Db, upTo?: string): Promise<void> {
  // Without a schema Kysely looks for its migration tables in every schema: with several Foyer schemas in one
  // PostgreSQL database (each test file, or deployments side by side) it finds another's and never creates its own.
  const migrationTableSchema =
    db.getExecutor().adapter instanceof PostgresAdapter
      ? ((await sql<{ s: string | null }>`select current_schema() as s`.execute(db)).rows[0]?.s ?? undefined)
      : undefined;
  const migrator = new Migrator({ db, provider, migrationTableSchema });
  const { error, results } = upTo ? await migrator.migrateTo(upTo) : await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) throw new Error(`Migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
}
