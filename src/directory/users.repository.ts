import { sql, type Kysely, type SqlBool, type RawBuilder, type Selectable } from 'kysely';
import type { Database, UsersTable } from '../db/schema.js';
import { insertMany } from '../db/bulk-insert.js';
import { searchRange, searchTerms, type ODataQuery } from '../graph/odata-query.js';
import { fetchKeysetPage, keysetAfter, type AnyQuery, type Page } from '../graph/list.js';
import { userSearchFields } from './users.entity.js';

export type UserRow = Selectable<UsersTable>;

export interface Identity {
  signInType: string;
  issuer: string;
  issuerAssignedId: string;
}

/** The rows of the side tables (filters on otherMails, identities, and `$search`) for one user. */
export function userIndexRows(row: Pick<UserRow, 'tenant_id' | 'id' | 'display_name' | 'mail' | 'user_principal_name' | 'other_mails' | 'identities'>) {
  const terms = [
    ...searchTerms(row.display_name).map((term) => ({ field: 'displayName', term })),
    ...searchTerms(row.mail, 4).map((term) => ({ field: 'mail', term })),
    ...searchTerms(row.user_principal_name, 1).map((term) => ({ field: 'userPrincipalName', term })),
  ].map((t) => ({ tenant_id: row.tenant_id, user_id: row.id, ...t }));
  const otherMails = [...new Set((JSON.parse(row.other_mails) as string[]).map((m) => m.toLowerCase()))].map((address_lower) => ({
    tenant_id: row.tenant_id,
    user_id: row.id,
    address_lower,
  }));
  const seen = new Set<string>();
  const identities = (JSON.parse(row.identities) as Identity[])
    .map((i) => ({
      tenant_id: row.tenant_id,
      user_id: row.id,
      sign_in_type: i.signInType,
      issuer: i.issuer,
      issuer_assigned_id_lower: i.issuerAssignedId.toLowerCase(),
    }))
    .filter((i) => {
      const k = `${i.sign_in_type}\u0000${i.issuer}\u0000${i.issuer_assigned_id_lower}`;
      return !seen.has(k) && seen.add(k);
    });
  return { terms, otherMails, identities };
}

/** The side-table rows of `rows`, in a few statements. */
async function writeIndexRows(trx: Kysely<Database>, rows: readonly UserRow[], index = rows.map(userIndexRows)): Promise<void> {
  // A user's terms can repeat (a display name equal to the mail's local part): the key is unique.
  const terms = new Map(index.flatMap((x) => x.terms).map((t) => [`${t.user_id}\u0000${t.field}\u0000${t.term}`, t]));
  await insertMany(trx, 'user_search_terms', [...terms.values()]);
  await insertMany(
    trx,
    'user_other_mails',
    index.flatMap((x) => x.otherMails),
  );
  await insertMany(
    trx,
    'user_identities',
    index.flatMap((x) => x.identities),
  );
}

/**
 * Inserts many new users and their side-table rows in a few statements (bulk invitations, seed).
 * The rows must be new: a duplicate sign-in name fails the whole call.
 */
export async function insertUsers(trx: Kysely<Database>, rows: readonly UserRow[], index = rows.map(userIndexRows)): Promise<void> {
  await insertMany(trx, 'users', rows);
  await writeIndexRows(trx, rows, index);
}

export async function insertUser(trx: Kysely<Database>, row: UserRow): Promise<void> {
  await insertUsers(trx, [row]);
}

/** Updates a user and rebuilds its side-table rows when an indexed property changed. */
export async function updateUser(trx: Kysely<Database>, before: UserRow, changes: Partial<UserRow>): Promise<UserRow> {
  const after = { ...before, ...changes };
  await trx.updateTable('users').set(changes).where('id', '=', before.id).execute();
  const indexed: (keyof UserRow)[] = ['display_name', 'mail', 'user_principal_name', 'other_mails', 'identities'];
  if (indexed.some((k) => k in changes && changes[k] !== before[k])) {
    await deleteSearchTerms(trx, before);
    await trx.deleteFrom('user_other_mails').where('user_id', '=', before.id).execute();
    await trx.deleteFrom('user_identities').where('user_id', '=', before.id).execute();
    await writeIndexRows(trx, [after]);
  }
  return after;
}

/**
 * Deletes the search terms of `row` as it is stored. Terms are found by their key, computed from
 * the row the same way they were written: the table has no index on user_id (see migration 0009).
 */
export async function deleteSearchTerms(trx: Kysely<Database>, row: UserRow): Promise<void> {
  const { terms } = userIndexRows(row);
  if (terms.length === 0) return;
  await trx
    .deleteFrom('user_search_terms')
    .where('tenant_id', '=', row.tenant_id)
    .where('user_id', '=', row.id)
    .where((eb) => eb.or(terms.map((t) => eb.and([eb('field', '=', t.field), eb('term', '=', t.term)]))))
    .execute();
}

/** A live (or, with `deleted`, a soft-deleted) user by id or userPrincipalName. */
export async function findUser(
  db: Kysely<Database>,
  tenantId: string,
  key: { id?: string; upn?: string },
  state: 'live' | 'deleted' = 'live',
): Promise<UserRow | undefined> {
  let q = db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId);
  q = key.id ? q.where('id', '=', key.id) : q.where('user_principal_name_lower', '=', key.upn!.toLowerCase());
  q = state === 'live' ? q.where('deleted_at', 'is', null) : q.where('deleted_at', 'is not', null);
  return q.executeTakeFirst();
}

/** Live users that exist among `ids`. */
export async function findLiveUsers(db: Kysely<Database>, tenantId: string, ids: string[]): Promise<UserRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where('id', 'in', ids).where('deleted_at', 'is', null).execute();
}

/** Live users of a tenant, with every column or only `columns` (lists read only what they return). */
export function liveUsers(db: Kysely<Database>, tenantId: string, columns?: readonly (keyof UserRow)[]): AnyQuery {
  const q = db.selectFrom('users as u').where('u.tenant_id', '=', tenantId).where('u.deleted_at', 'is', null);
  return columns ? q.select(columns.map((c) => `u.${c}` as const)) : q.selectAll('u');
}

function searchCondition(alias: string, search: NonNullable<ODataQuery['search']>): RawBuilder<SqlBool> {
  const parts = search.map((c) => {
    const [low, high] = searchRange(c.value);
    return sql<SqlBool>`(${sql.ref(`${alias}.field`)} = ${c.property} and ${sql.ref(`${alias}.term`)} >= ${low} and ${sql.ref(`${alias}.term`)} < ${high})`;
  });
  return sql<SqlBool>`(${sql.join(parts, sql` or `)})`;
}

/** Restricts a users query to those matching `$search` (used with `$orderby` and `$count`). */
export function whereSearchMatches(query: AnyQuery, tenantId: string, search: NonNullable<ODataQuery['search']>): AnyQuery {
  return query.where(
    sql.ref('u.id'),
    'in',
    sql`(select t.user_id from user_search_terms t where t.tenant_id = ${tenantId} and ${searchCondition('t', search)})`,
  );
}

type SearchRow = UserRow & { _term: string; _field: string };

/**
 * One page of `$search` results in search-index order (term, then id, then field): an index range scan, so
 * the cost does not grow with the directory. A user whose several words match is returned
 * once, at its smallest matching term; the other index rows of that user are skipped.
 */
export async function searchUsersPage(
  db: Kysely<Database>,
  tenantId: string,
  search: NonNullable<ODataQuery['search']>,
  restrict: (q: AnyQuery) => AnyQuery,
  position: unknown[] | null,
  top: number,
  columns?: readonly (keyof UserRow)[],
): Promise<Page<UserRow>> {
  const ranges = search.map((c) => ({ field: c.property, range: searchRange(c.value) }));
  const isCanonical = (row: SearchRow): boolean => {
    let best: [string, string] | null = null;
    for (const [field, column] of Object.entries(userSearchFields)) {
      // Only fields the search names can match; folding the others' terms was a fifth of a page's time.
      if (!ranges.some((r) => r.field === field)) continue;
      const max = field === 'displayName' ? 8 : field === 'mail' ? 4 : 1;
      for (const term of searchTerms(row[column] as string | null, max)) {
        if (!ranges.some((r) => r.field === field && term >= r.range[0] && term < r.range[1])) continue;
        if (!best || term < best[0] || (term === best[0] && field < best[1])) best = [term, field];
      }
    }
    return best !== null && best[0] === row._term && best[1] === row._field;
  };
  // The field completes the key: a member whose mail and userPrincipalName are the same address has two
  // index rows with one (term, user_id), and a batch cut between them must not skip the canonical one.
  const order = { columns: ['t.term', 't.user_id', 't.field'], direction: 'asc' as const };
  const rows: UserRow[] = [];
  let after = position;
  for (;;) {
    let q: AnyQuery = db
      .selectFrom('user_search_terms as t')
      .innerJoin('users as u', 'u.id', 't.user_id')
      .select(['t.term as _term', 't.field as _field'])
      .where('t.tenant_id', '=', tenantId)
      .where(searchCondition('t', search))
      .where('u.deleted_at', 'is', null);
    // isCanonical reads the searchable columns, whatever the caller asked for.
    q = columns ? q.select([...new Set([...columns, 'id', ...Object.values(userSearchFields)])].map((c) => `u.${c}`)) : q.selectAll('u');
    q = restrict(q);
    if (after) q = q.where(keysetAfter(order, after));
    const batch = (await q
      .orderBy('t.term')
      .orderBy('t.user_id')
      .orderBy('t.field')
      .limit(top + 1)
      .execute()) as SearchRow[];
    for (const row of batch) {
      if (!isCanonical(row)) continue;
      rows.push(row);
      if (rows.length > top) {
        rows.length = top;
        const last = rows[top - 1] as SearchRow;
        return { rows, next: [last._term, last.id, last._field] };
      }
    }
    if (batch.length <= top) return { rows, next: null };
    const last = batch[batch.length - 1]!;
    after = [last._term, last.id, last._field];
  }
}

export { fetchKeysetPage };
