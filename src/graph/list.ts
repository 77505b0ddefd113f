import { sql, type Kysely, type RawBuilder, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { ODataQuery } from './odata-query.js';
import type { EntityDefinition } from './entity.js';
import type { RequestContext } from '../http/context.js';
import { compileFilter, decodeSkipToken, encodeSkipToken, parseListQuery } from './odata-query.js';
import { badRequest } from './errors.js';

// Lists are assembled from dynamic column names, so the builder is typed loosely here and the
// services map every row to its API shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyQuery = SelectQueryBuilder<any, any, any>;

export interface KeysetOrder {
  /** Qualified column names, most significant first; the last one is unique. */
  columns: string[];
  direction: 'asc' | 'desc';
}

/**
 * Keyset condition `(c1, c2, ...) > (v1, v2, ...)` (or `<` for desc), written as
 * `c1 >= v1 and (c1 > v1 or (...))` so both engines use the leading index column as a range.
 */
export function keysetAfter(order: KeysetOrder, position: unknown[]): RawBuilder<SqlBool> {
  if (position.length !== order.columns.length || position.some((v) => typeof v !== 'string' && typeof v !== 'number'))
    throw badRequest('The $skiptoken is not valid for this request; follow @odata.nextLink exactly as given.');
  const strict = order.direction === 'asc' ? sql.raw('>') : sql.raw('<');
  const loose = order.direction === 'asc' ? sql.raw('>=') : sql.raw('<=');
  const build = (i: number): RawBuilder<SqlBool> => {
    const col = sql.ref(order.columns[i]!);
    if (i === order.columns.length - 1) return sql<SqlBool>`${col} ${strict} ${position[i]}`;
    return sql<SqlBool>`(${col} ${strict} ${position[i]} or (${col} = ${position[i]} and ${build(i + 1)}))`;
  };
  const lead = sql.ref(order.columns[0]!);
  return order.columns.length === 1 ? build(0) : sql<SqlBool>`(${lead} ${loose} ${position[0]} and ${build(0)})`;
}

export interface Page<Row> {
  rows: Row[];
  /** Keyset position after the last row, or null on the last page. */
  next: unknown[] | null;
}

/**
 * Runs one keyset page: the caller's query (already filtered and scoped), ordered by `order`,
 * continued after `position`, reading one extra row to know whether another page follows.
 */
export async function fetchKeysetPage<Row extends Record<string, unknown>>(
  query: AnyQuery,
  order: KeysetOrder,
  position: unknown[] | null,
  top: number,
  positionOf: (row: Row) => unknown[],
): Promise<Page<Row>> {
  let q = query;
  if (position) q = q.where(keysetAfter(order, position));
  for (const col of order.columns) q = q.orderBy(sql.ref(col), order.direction);
  const rows = (await q.limit(top + 1).execute()) as Row[];
  const more = rows.length > top;
  if (more) rows.length = top;
  return { rows, next: more ? positionOf(rows[rows.length - 1]!) : null };
}

/** Reads and checks the keyset position from the query's `$skiptoken`. */
export function positionFrom(secret: string, query: ODataQuery): unknown[] | null {
  return query.skipToken ? decodeSkipToken(secret, query.fingerprint, query.skipToken) : null;
}

export interface CollectionEnvelope {
  '@odata.context': string;
  '@odata.count'?: number;
  '@odata.nextLink'?: string;
  value: unknown[];
}

/**
 * Graph's collection envelope. `requestUrl` is the path and query the client called; the next
 * link repeats it with a fresh `$skiptoken`.
 */
export function collectionEnvelope(args: {
  baseUrl: string;
  context: string;
  select?: string[] | null;
  value: unknown[];
  count?: number;
  requestUrl: string;
  nextToken?: string | null;
}): CollectionEnvelope {
  const contextSuffix = args.select ? `(${args.select.join(',')})` : '';
  // Key order matters to readers of raw JSON: context, count, nextLink, then value, as Graph answers.
  return {
    '@odata.context': `${args.baseUrl}/v1.0/$metadata#${args.context}${contextSuffix}`,
    ...(args.count !== undefined ? { '@odata.count': args.count } : {}),
    ...(args.nextToken ? { '@odata.nextLink': `${args.baseUrl}${withSkipToken(args.requestUrl, args.nextToken)}` } : {}),
    value: args.value,
  };
}

function withSkipToken(requestUrl: string, token: string): string {
  const [path, query = ''] = requestUrl.split('?', 2) as [string, string?];
  const kept = query.split('&').filter((p) => p && !/^(%24|\$)skiptoken=/i.test(p));
  kept.push(`$skiptoken=${encodeURIComponent(token)}`);
  return `${path}?${kept.join('&')}`;
}

/** `$count`: how many rows the list query (filtered and scoped, before paging) selects. */
export async function countRows(query: AnyQuery): Promise<number> {
  const row = (await query
    .clearSelect()
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow()) as { n: number | string | bigint };
  return Number(row.n);
}

/** Next-page token for a page, or null on the last page. */
export function nextTokenOf(secret: string, query: ODataQuery, next: unknown[] | null): string | null {
  return next ? encodeSkipToken(secret, query.fingerprint, next) : null;
}

/**
 * A page of a collection whose rows `base` selects (read as the subquery `x`): `$filter`, one
 * `$orderby` column then the entity's key column, `$select`, `$top`, `$count` and `$skiptoken` as
 * `entity` declares them, answered in Graph's envelope with the rows as `shape` maps them. For
 * collections without `$search`; the directory's users and groups have lists of their own.
 */
export async function listCollection<Row extends Record<string, unknown>>(args: {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>;
  secret: string;
  ctx: RequestContext;
  entity: EntityDefinition;
  base: AnyQuery;
  shape: (rows: Row[], select: string[]) => Promise<Record<string, unknown>[]> | Record<string, unknown>[];
}): Promise<CollectionEnvelope> {
  const { ctx, entity } = args;
  const q = parseListQuery(entity, ctx);
  if (q.search) throw badRequest('$search is not supported on this collection.');
  let query: AnyQuery = args.db.selectFrom(args.base.as('x')).selectAll('x');
  if (q.filter) query = query.where(compileFilter(entity, q.filter, 'x', ctx.actor.tenantId));
  const sortKey = q.orderBy?.column;
  const key = entity.keyColumn;
  const page = await fetchKeysetPage<Row>(
    query,
    { columns: sortKey ? [`x.${sortKey}`, `x.${key}`] : [`x.${key}`], direction: q.orderBy?.direction ?? 'asc' },
    positionFrom(args.secret, q),
    q.top,
    (r) => (sortKey ? [r[sortKey], r[key]] : [r[key]]),
  );
  return collectionEnvelope({
    baseUrl: ctx.baseUrl,
    context: entity.entitySet,
    select: q.explicitSelect ? q.select : null,
    value: await args.shape(page.rows, q.select),
    count: q.count ? await countRows(query) : undefined,
    requestUrl: ctx.requestUrl,
    nextToken: nextTokenOf(args.secret, q, page.next),
  });
}
