import { PostgresAdapter, sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { insertUsers, userIndexRows, type UserRow } from './users.repository.js';
import { newId } from '../ids.js';
import { buildUserRow } from './user-row.js';

const givenNames = [
  'Ana',
  'Bo',
  'Chris',
  'Daan',
  'Eva',
  'Femke',
  'Git',
  'Hugo',
  'Iris',
  'Jan',
  'Kim',
  'Lars',
  'Maud',
  'Noor',
  'Otto',
  'Pia',
  'Quinn',
  'Ruben',
  'Sara',
  'Tom',
  'Uma',
  'Vera',
  'Wout',
  'Xander',
  'Yara',
  'Zoe',
  'Walter',
  'Wanda',
];
const surnames = [
  'de Vries',
  'Jansen',
  'Bakker',
  'Visser',
  'Smit',
  'Meijer',
  'de Boer',
  'Mulder',
  'de Groot',
  'Bos',
  'Vos',
  'Peters',
  'Hendriks',
  'van Leeuwen',
  'Dekker',
  'Brouwer',
  'de Wit',
  'Dijkstra',
  'Smits',
  'de Graaf',
  'Wassink',
  'Wagenaar',
];
const partners = ['fabrikam.test', 'northwind.test', 'adatum.test', 'litware.test', 'tailspin.test', 'woodgrove.test', 'proseware.test', 'wingtip.test'];
const sources = ['directory', 'bulk', 'teams', 'sharepoint', 'api'];

/** Deterministic pseudo-random numbers (mulberry32), so a seeded directory is the same every run. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Seeded = { users: UserRow[]; index: ReturnType<typeof userIndexRows>[]; done: number };

/** The synthetic people, `batchSize` at a time, built only when the writer asks for the next batch. */
function* seedBatches(opts: SeedOptions, batchSize: number): Generator<Seeded> {
  const rnd = random(opts.users * 7919 + 17);
  const nowMs = opts.clock.now().getTime();
  const runTag = newId().slice(0, 6);
  for (let start = 0; start < opts.users; start += batchSize) {
    const users: UserRow[] = [];
    for (let i = start; i < Math.min(opts.users, start + batchSize); i++) {
      const given = givenNames[Math.floor(rnd() * givenNames.length)]!;
      const surname = surnames[Math.floor(rnd() * surnames.length)]!;
      const guest = rnd() < opts.guestRatio;
      const local = `${given}.${surname.replace(/ /g, '')}.${runTag}${i}`.toLowerCase();
      const created = new Date(nowMs - Math.floor(rnd() * 730 * 86_400_000)).toISOString();
      const partner = partners[Math.floor(rnd() * partners.length)]!;
      const mail = guest ? `${local}@${partner}` : `${local}@${opts.domain}`;
      const upn = guest ? `${mail.replace('@', '_')}#EXT#@${opts.domain}` : mail;
      const accepted = guest && rnd() < 0.7;
      const displayName = `${given} ${surname}`;
      users.push(
        buildUserRow(
          {
            tenantId: opts.tenantId,
            displayName,
            userPrincipalName: upn,
            mailNickname: guest ? `${mail.replace('@', '_')}#EXT#` : local,
            userType: guest ? 'Guest' : 'Member',
            createdAt: created,
            mail,
            givenName: given,
            surname,
            identities:
              guest && accepted
                ? [{ signInType: 'emailAddress', issuer: 'mail', issuerAssignedId: mail }]
                : [{ signInType: 'userPrincipalName', issuer: opts.domain, issuerAssignedId: upn }],
          },
          {
            creation_type: guest ? 'Invitation' : null,
            external_user_state: guest ? (accepted ? 'Accepted' : 'PendingAcceptance') : null,
            external_user_state_changed_at: guest ? created : null,
            company_name: guest ? partner.split('.')[0]! : null,
            last_sign_in_at: accepted || !guest ? created : null,
            last_successful_sign_in_at: accepted || !guest ? created : null,
            source: guest ? sources[Math.floor(rnd() * sources.length)]! : null,
          },
        ),
      );
    }
    const index = users.map(userIndexRows);
    yield { users, index, done: Math.min(opts.users, start + batchSize) };
  }
}

/**
 * Writes each batch while the next one is being built: on PostgreSQL the server inserts one batch
 * while this process prepares the next, so both cores work.
 */
async function writePipelined(batches: Iterable<Seeded>, write: (batch: Seeded) => Promise<void>, onProgress?: (done: number) => void): Promise<void> {
  const writing: { write: Promise<void>; done: number }[] = [];
  try {
    for (const batch of batches) {
      const pending = write(batch);
      pending.catch(() => {}); // awaited below; this only keeps a failure from being reported as unhandled first
      writing.push({ write: pending, done: batch.done });
      if (writing.length > 1) {
        const earlier = writing.shift()!;
        await earlier.write;
        onProgress?.(earlier.done);
      }
    }
    while (writing.length) {
      await writing[0]!.write;
      // Shift outside the optional call: `f?.(args)` skips its arguments when f is undefined, which looped forever.
      const { done } = writing.shift()!;
      onProgress?.(done);
    }
  } finally {
    await Promise.allSettled(writing.map((w) => w.write));
  }
}

const seededTables = ['users', 'user_search_terms', 'user_identities'];

/** CREATE statements of the seeded tables' secondary indexes (not those behind a primary key or constraint). */
async function secondaryIndexes(db: Kysely<Database>, pg: boolean): Promise<{ name: string; definition: string }[]> {
  const tables = sql.join(seededTables.map((t) => sql.lit(t)));
  const { rows } = pg
    ? await sql<{ name: string; definition: string }>`
        select c.relname as name, pg_get_indexdef(i.indexrelid) as definition
        from pg_index i join pg_class c on c.oid = i.indexrelid join pg_class t on t.oid = i.indrelid
        where t.relnamespace = current_schema()::regnamespace and t.relname in (${tables})
          and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)`.execute(db)
    : // SQLite keeps the indexes that lead with a column referencing users: inserting several users
      // in one statement makes it look for their child rows, a full scan of a child table without one.
      await sql<{ name: string; definition: string }>`
        select m.name, m.sql as definition from sqlite_master m
        where m.type = 'index' and m.sql is not null and m.tbl_name in (${tables})
          and not exists (select 1 from pragma_index_info(m.name) c where c.seqno = 0 and c.name in (select "from" from pragma_foreign_key_list(m.tbl_name) where "table" = 'users'))`.execute(
        db,
      );
  return rows;
}

export interface SeedOptions {
  tenantId: string;
  domain: string;
  users: number;
  guestRatio: number;
  clock: Clock;
  batchSize?: number;
  onProgress?: (done: number) => void;
}

/** From this many people (and at least as many as the directory holds already) a seed rebuilds the indexes instead of updating them. */
const BULK_LOAD_FROM = 50_000;

/**
 * Bulk-loads a synthetic directory of `users` people, `guestRatio` of them guests. For demos and
 * benchmarks; the rows are the same shape the API writes.
 *
 * Small seeds go in batched transactions beside whatever else is running. A large seed runs as one
 * transaction that drops the secondary indexes of the three tables, loads, and creates them again
 * from their own definitions: inserting a user touched some 20 B-trees at random places (ids are
 * random), and at a million users that made seeding several times slower than building each index
 * once. While it runs the tables are locked (PostgreSQL) or the database is (SQLite); a failure or a
 * crash rolls everything back.
 */
export async function seedDirectory(db: Kysely<Database>, opts: SeedOptions): Promise<void> {
  const batchSize = opts.batchSize ?? 20_000;
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const existing = Number(
    (
      await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
  // SQLite: a 256 MiB page cache while loading, put back afterwards. Larger is slower: once a
  // transaction's dirty pages fill a very large cache, finding one to spill becomes a long walk
  // (a 1 GiB cache made a 200,000-user seed take over ten times as long).
  const cacheSize = pg ? null : (await sql<{ cache_size: number }>`pragma cache_size`.execute(db)).rows[0]!.cache_size;
  if (!pg) await sql`pragma cache_size = -262144`.execute(db);
  try {
    if (opts.users >= BULK_LOAD_FROM && opts.users >= existing) {
      await db.transaction().execute(async (trx) => {
        const indexes = await secondaryIndexes(trx, pg);
        for (const i of indexes) await sql`drop index ${sql.id(i.name)}`.execute(trx);
        await writePipelined(seedBatches(opts, batchSize), (batch) => insertUsers(trx, batch.users, batch.index), opts.onProgress);
        if (pg) await sql`set local maintenance_work_mem = '512MB'`.execute(trx);
        for (const i of indexes) await sql.raw(i.definition).execute(trx);
      });
    } else {
      await writePipelined(
        seedBatches(opts, batchSize),
        (batch) => db.transaction().execute((trx) => insertUsers(trx, batch.users, batch.index)),
        opts.onProgress,
      );
    }
  } finally {
    if (cacheSize !== null) await sql`pragma cache_size = ${sql.raw(String(cacheSize))}`.execute(db);
  }
  // Statistics and the visibility map now, rather than from autovacuum while someone measures.
  if (pg) await sql`vacuum (analyze) users, user_search_terms, user_identities`.execute(db);
}
