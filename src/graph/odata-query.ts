import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { EntityDefinition, FilterableProperty } from './entity.js';
import { findProperty } from './entity.js';
import { badRequest, unsupportedQuery } from './errors.js';
import { parseFilter, parseSearch, type FilterNode, type Literal, type SearchClause } from './filter-parser.js';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 999;

/** A list request's query options, validated against one entity. */
export interface ODataQuery {
  select: string[];
  /** True when `$select` was given (so `@odata.context` names the properties). */
  explicitSelect: boolean;
  filter: FilterNode | null;
  search: SearchClause[] | null;
  orderBy: { property: string; column: string; direction: 'asc' | 'desc' } | null;
  top: number;
  /** `$count=true` honoured (advanced query mode). */
  count: boolean;
  skipToken: string | null;
  /** Stable fingerprint of filter/search/order, binding a skiptoken to its query. */
  fingerprint: string;
}

export interface QueryInput {
  query: Record<string, unknown>;
  consistencyLevel: string | undefined;
}

const knownOptions = new Set(['$select', '$filter', '$search', '$orderby', '$top', '$count', '$skiptoken', '$expand', '$skip', '$format']);

/**
 * Validates Graph query options for a list of `entity`, including Graph's advanced-query gating:
 * `ne`, `not`, `endsWith`, `$filter` with `$orderby` need `ConsistencyLevel: eventual` and
 * `$count=true`; `$search` needs the header.
 */
export function parseListQuery(entity: EntityDefinition, input: QueryInput): ODataQuery {
  const q = input.query;
  for (const key of Object.keys(q)) {
    if (key.startsWith('$') && !knownOptions.has(key.toLowerCase())) throw badRequest(`Query option '${key}' is not supported.`);
  }
  const get = (name: string): string | undefined => {
    // Option names are read in any casing, as the check above accepts them: a `$FILTER` that passed it and
    // was then ignored answered every row. Two spellings of one option are a repeat.
    const keys = Object.keys(q).filter((k) => k.toLowerCase() === name);
    const v = keys.length === 1 ? q[keys[0]!] : keys.length > 1 ? [] : undefined;
    if (Array.isArray(v)) throw badRequest(`Query option '${name}' was specified more than once.`);
    // PostgreSQL refuses U+0000 in text parameters; refusing it here answers the same 400 on both engines.
    if (typeof v === 'string' && v.includes('\u0000')) throw badRequest(`Query option '${name}' contains a NUL character.`);
    return v === undefined ? undefined : String(v);
  };
  if (get('$skip') !== undefined) throw badRequest("'$skip' is not supported by the service.");
  if (get('$expand') !== undefined) throw unsupportedQuery("'$expand' is not supported on this collection.");

  const eventual = (input.consistencyLevel ?? '').toLowerCase() === 'eventual';
  const countRaw = get('$count');
  if (countRaw !== undefined && countRaw !== 'true' && countRaw !== 'false') throw badRequest(`Invalid value '${countRaw}' for $count; use true or false.`);
  const countAsked = countRaw === 'true';

  const { select, explicitSelect } = parseSelect(entity, get('$select'));

  const topRaw = get('$top');
  let top = DEFAULT_PAGE_SIZE;
  if (topRaw !== undefined) {
    if (!/^\d+$/.test(topRaw)) throw badRequest(`Invalid value '${topRaw}' for $top; it must be a whole number.`);
    top = Number(topRaw);
    if (top < 1 || top > MAX_PAGE_SIZE) throw badRequest(`Invalid page size specified: '${topRaw}'. Must be between 1 and ${MAX_PAGE_SIZE} inclusive.`);
  }

  const filterRaw = get('$filter');
  const filter = filterRaw === undefined || filterRaw.trim() === '' ? null : parseFilter(filterRaw);
  let advanced = false;
  if (filter) advanced = validateFilter(entity, filter);

  const orderRaw = get('$orderby');
  let orderBy: ODataQuery['orderBy'] = null;
  if (orderRaw !== undefined && orderRaw.trim() !== '') {
    const parts = orderRaw.trim().split(/\s*,\s*/);
    if (parts.length > 1) throw unsupportedQuery('Sorting by more than one property is not supported.');
    const m = /^([A-Za-z/]+)(?:\s+(asc|desc))?$/i.exec(parts[0]!);
    if (!m) throw badRequest(`Invalid $orderby expression '${orderRaw}'.`);
    const found = findProperty(entity.sortable, m[1]!);
    if (!found) throw unsupportedQuery(`Sorting by '${m[1]}' is not supported.`);
    orderBy = { property: found[0], column: found[1], direction: (m[2]?.toLowerCase() as 'asc' | 'desc') ?? 'asc' };
    if (filter) advanced = true;
  }

  const searchRaw = get('$search');
  let search: SearchClause[] | null = null;
  if (searchRaw !== undefined) {
    if (!eventual)
      throw unsupportedQuery("Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'");
    search = parseSearch(searchRaw.trim());
    for (const clause of search) {
      const found = entity.searchable.find((p) => p.toLowerCase() === clause.property.toLowerCase());
      if (!found) throw badRequest(`Search on property '${clause.property}' is not supported.`);
      clause.property = found;
      if (normalizeSearchValue(clause.value) === '') throw badRequest(`The search value for '${found}' is empty.`);
    }
  }

  if (advanced && entity.advancedQueryGating && !(eventual && countAsked)) throw unsupportedQuery();

  const fingerprint = createHash('sha256')
    .update(JSON.stringify([entity.type, filterRaw ?? '', searchRaw ?? '', orderBy?.column ?? '', orderBy?.direction ?? '']))
    .digest('base64url')
    .slice(0, 16);

  return {
    select,
    explicitSelect,
    filter,
    search,
    orderBy,
    top,
    count: countAsked && eventual,
    skipToken: get('$skiptoken') ?? null,
    fingerprint,
  };
}

/** `$select` for a single entity (GET by id) as well as for lists. */
export function parseSelect(entity: EntityDefinition, raw: string | undefined): { select: string[]; explicitSelect: boolean } {
  if (raw === undefined || raw.trim() === '') return { select: [...entity.defaultProperties], explicitSelect: false };
  const select: string[] = [];
  for (const name of raw.split(',').map((s) => s.trim())) {
    if (name === '*') return { select: [...entity.properties], explicitSelect: true };
    const found = entity.properties.find((p) => p.toLowerCase() === name.toLowerCase());
    if (!found) throw badRequest(`Parsing OData Select and Expand failed: Could not find a property named '${name}' on type 'microsoft.graph.${entity.type}'.`);
    if (!select.includes(found)) select.push(found);
  }
  return { select, explicitSelect: true };
}

/** Checks every property and operator; returns true when the filter needs advanced query mode. */
function validateFilter(entity: EntityDefinition, node: FilterNode, lambdaVar?: { name: string; members: Record<string, FilterableProperty> }): boolean {
  const resolve = (path: string[]): FilterableProperty => {
    if (lambdaVar) {
      // The compiled predicate reads only the side table, so every path must start at the range variable.
      const member = path[0] === lambdaVar.name ? findProperty(lambdaVar.members, path.slice(1).join('/')) : undefined;
      if (!member) throw badRequest(`Property '${path.join('/')}' is not supported inside any(); use the range variable '${lambdaVar.name}'.`);
      return member[1];
    }
    const found = findProperty(entity.filterable, path.join('/'));
    if (!found) {
      if (entity.properties.some((p) => p.toLowerCase() === path.join('/').toLowerCase()) || findProperty(entity.lambdas ?? {}, path.join('/')))
        throw unsupportedQuery(`Filtering on '${path.join('/')}' is not supported.`);
      throw badRequest(`Could not find a property named '${path.join('/')}' on type 'microsoft.graph.${entity.type}'.`);
    }
    return found[1];
  };
  switch (node.kind) {
    case 'and':
    case 'or': {
      // Both sides must be validated: a short-circuit would let an unchecked right side reach the compiler.
      const left = validateFilter(entity, node.left, lambdaVar);
      const right = validateFilter(entity, node.right, lambdaVar);
      return left || right;
    }
    case 'not':
      validateFilter(entity, node.operand, lambdaVar);
      return true;
    case 'compare': {
      const prop = resolve(node.path);
      checkValue(prop, node.value, node.path);
      const ordering = node.op !== 'eq' && node.op !== 'ne';
      if (ordering && prop.type === 'boolean') throw unsupportedQuery(`The operator '${node.op}' is not supported on '${node.path.join('/')}'.`);
      if (ordering && node.value === null) throw badRequest(`The operator '${node.op}' cannot compare with null.`);
      return node.op === 'ne';
    }
    case 'in': {
      const prop = resolve(node.path);
      for (const v of node.values) checkValue(prop, v, node.path);
      return false;
    }
    case 'function': {
      const prop = resolve(node.path);
      const ok = node.name === 'startswith' ? prop.startsWith : prop.endsWith;
      if (!ok) throw unsupportedQuery(`The function '${node.name}' is not supported on '${node.path.join('/')}'.`);
      return node.name === 'endswith';
    }
    case 'any': {
      if (lambdaVar) throw unsupportedQuery('Nested any() is not supported.');
      const lambda = findProperty(entity.lambdas ?? {}, node.path.join('/'));
      if (!lambda) throw unsupportedQuery(`any() is not supported on '${node.path.join('/')}'.`);
      return validateFilter(entity, node.predicate, { name: node.variable, members: lambda[1].members });
    }
  }
}

function checkValue(prop: FilterableProperty, value: Literal, path: string[]): void {
  const name = path.join('/');
  if (value === null) {
    if (!prop.nullable) throw badRequest(`'${name}' is never null.`);
    return;
  }
  switch (prop.type) {
    case 'boolean':
      if (typeof value !== 'boolean') throw badRequest(`'${name}' must be compared with true or false.`);
      return;
    case 'datetime':
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value)))
        throw badRequest(`'${name}' must be compared with a date and time, like 2026-01-31T00:00:00Z.`);
      return;
    case 'enum':
      if (typeof value !== 'string' || !prop.values!.some((v) => v.toLowerCase() === value.toLowerCase()))
        throw badRequest(`'${String(value)}' is not a valid value for '${name}'. Use one of: ${prop.values!.join(', ')}.`);
      return;
    default:
      if (typeof value !== 'string') throw badRequest(`'${name}' must be compared with a quoted string.`);
  }
}

function sqlValue(prop: FilterableProperty, value: Literal): unknown {
  if (value === null) return null;
  switch (prop.type) {
    case 'boolean':
      return value ? 1 : 0;
    case 'datetime':
      return new Date(String(value)).toISOString();
    case 'enum':
      return prop.values!.find((v) => v.toLowerCase() === String(value).toLowerCase());
    default:
      return prop.caseInsensitive || prop.type === 'guid' ? String(value).toLowerCase() : String(value);
  }
}

/** Highest code point: `x >= p AND x < p + MAX` selects every x starting with p in byte order. */
const MAX_CHAR = '\u{10FFFF}';

const ops = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' } as const;

/**
 * Compiles a validated filter to SQL over `alias`. Every predicate is null-safe (never NULL),
 * so `not` and `ne` follow OData's two-valued logic.
 */
export function compileFilter(entity: EntityDefinition, node: FilterNode, alias: string, tenantId: string): RawBuilder<SqlBool> {
  const compileOn = (
    n: FilterNode,
    colRef: (prop: FilterableProperty) => RawBuilder<unknown>,
    resolve: (path: string[]) => FilterableProperty,
  ): RawBuilder<SqlBool> => {
    switch (n.kind) {
      case 'and':
        return sql<SqlBool>`(${compileOn(n.left, colRef, resolve)} and ${compileOn(n.right, colRef, resolve)})`;
      case 'or':
        return sql<SqlBool>`(${compileOn(n.left, colRef, resolve)} or ${compileOn(n.right, colRef, resolve)})`;
      case 'not':
        return sql<SqlBool>`(not ${compileOn(n.operand, colRef, resolve)})`;
      case 'compare': {
        const prop = resolve(n.path);
        const col = colRef(prop);
        if (n.value === null) return n.op === 'eq' ? sql<SqlBool>`(${col} is null)` : sql<SqlBool>`(${col} is not null)`;
        const v = sqlValue(prop, n.value);
        if (n.op === 'ne') return sql<SqlBool>`(${col} is null or ${col} <> ${v})`;
        return sql<SqlBool>`(${col} is not null and ${col} ${sql.raw(ops[n.op])} ${v})`;
      }
      case 'in': {
        const prop = resolve(n.path);
        const col = colRef(prop);
        const values = n.values.filter((v) => v !== null).map((v) => sqlValue(prop, v));
        const parts: RawBuilder<SqlBool>[] = [];
        if (values.length) parts.push(sql<SqlBool>`(${col} is not null and ${col} in (${sql.join(values)}))`);
        if (n.values.includes(null)) parts.push(sql<SqlBool>`(${col} is null)`);
        return sql<SqlBool>`(${sql.join(parts, sql` or `)})`;
      }
      case 'function': {
        const prop = resolve(n.path);
        const col = colRef(prop);
        const v = prop.caseInsensitive ? n.value.toLowerCase() : n.value;
        if (n.name === 'startswith') return sql<SqlBool>`(${col} is not null and ${col} >= ${v} and ${col} < ${v + MAX_CHAR})`;
        if (v === '') return sql<SqlBool>`(${col} is not null)`;
        return sql<SqlBool>`(${col} is not null and length(${col}) >= ${v.length} and substr(${col}, length(${col}) - ${v.length - 1}) = ${v})`;
      }
      case 'any': {
        const [, lambda] = findProperty(entity.lambdas!, n.path.join('/'))!;
        const inner = compileOn(
          n.predicate,
          (prop) => sql.ref(`l.${prop.column}`),
          (path) => findProperty(lambda.members, path.slice(1).join('/'))![1],
        );
        // IN (subquery) lets both engines drive the lookup from the side table's index.
        return sql<SqlBool>`(${sql.ref(`${alias}.${entity.keyColumn}`)} in (select l.${sql.ref(lambda.ownerColumn)} from ${sql.table(lambda.table)} l where l.tenant_id = ${tenantId} and ${inner}))`;
      }
    }
  };
  return compileOn(
    node,
    (prop) => sql.ref(`${alias}.${prop.column}`),
    (path) => findProperty(entity.filterable, path.join('/'))![1],
  );
}

/** Case-folds and trims a search value the same way the search index does. */
export function normalizeSearchValue(value: string): string {
  return value.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/**
 * Every suffix of the folded value that starts at a word boundary: "Ana de Vries" →
 * ["ana de vries", "de vries", "vries"]. A word-prefix `$search` is then a prefix range on one of them.
 */
export function searchTerms(value: string | null | undefined, maxTerms = 8): string[] {
  if (!value) return [];
  const folded = normalizeSearchValue(value).slice(0, 200);
  const terms = new Set<string>();
  const wordStart = /(?:^|[^\p{L}\p{N}])([\p{L}\p{N}])/gu;
  for (const m of folded.matchAll(wordStart)) {
    const start = m.index + m[0].length - m[1]!.length;
    terms.add(folded.slice(start));
    if (terms.size >= maxTerms) break;
  }
  return [...terms];
}

/** `[low, high)` range selecting every term that starts with the folded search value. */
export function searchRange(value: string): [string, string] {
  const p = normalizeSearchValue(value);
  return [p, p + MAX_CHAR];
}

/** Signed, query-bound opaque `$skiptoken` carrying the keyset position. */
export function encodeSkipToken(secret: string, fingerprint: string, position: unknown[]): string {
  const body = Buffer.from(JSON.stringify({ f: fingerprint, k: position })).toString('base64url');
  const mac = createHmac('sha256', secret).update(body).digest('base64url').slice(0, 22);
  return `${body}.${mac}`;
}

export function decodeSkipToken(secret: string, fingerprint: string, token: string): unknown[] {
  const invalidToken = badRequest('The $skiptoken is not valid for this request; follow @odata.nextLink exactly as given.');
  const [body, mac] = token.split('.');
  if (!body || !mac || token.length > 2048) throw invalidToken;
  const expected = Buffer.from(createHmac('sha256', secret).update(body).digest('base64url').slice(0, 22));
  // Compare byte lengths, not string lengths: a non-ASCII mac of 22 characters would make timingSafeEqual throw.
  const given = Buffer.from(mac);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidToken;
  const parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { f: string; k: unknown[] };
  if (parsed.f !== fingerprint || !Array.isArray(parsed.k)) throw invalidToken;
  return parsed.k;
}
