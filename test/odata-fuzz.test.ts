import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { call, createMember, createTestApp, followPages, type TestApp } from './helpers/test-app.js';
import { seedDirectory } from '../src/directory/seed.js';
import { graphErrorStatus } from '../src/graph/errors.js';
import { prng, type Rng } from './helpers/prng.js';

/**
 * Throws a few thousand random and malformed query strings at the list endpoints and checks
 * that every answer is a defined one: a valid collection or a 4xx in Graph's envelope, never a 5xx.
 * The generator is seeded; set FOYER_FUZZ_SEED to replay a failing run.
 */

const SEED = Number(process.env.FOYER_FUZZ_SEED ?? 20261123);
const ITERATIONS = 2000;
const BASE = 'http://foyer.test';
const guidRe = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const closedCodes = new Set(Object.keys(graphErrorStatus));

const userProps = [
  'id',
  'displayName',
  'givenName',
  'surname',
  'mail',
  'userPrincipalName',
  'userType',
  'accountEnabled',
  'createdDateTime',
  'creationType',
  'externalUserState',
  'externalUserStateChangeDateTime',
  'signInActivity/lastSignInDateTime',
  'signInActivity/lastSuccessfulSignInDateTime',
  'otherMails',
  'identities',
  'jobTitle',
  'companyName',
  'signInActivity',
];
const groupProps = [
  'id',
  'displayName',
  'description',
  'mail',
  'mailEnabled',
  'mailNickname',
  'securityEnabled',
  'groupTypes',
  'visibility',
  'createdDateTime',
];
const junkProps = ['DISPLAYNAME', 'displayname', 'nope', 'x/y/z', '$it', '@odata.type', 'display_name_lower', 'users.id', 'id;', 'mail--', 'a'.repeat(300)];

/** Values that look like SQL or LIKE syntax; as data they must match nothing. */
const injections = [
  "' or 1=1 --",
  "' or ''='",
  "x'; drop table users; --",
  "') or ('1'='1",
  '" or ""="',
  '%',
  '%%',
  '_',
  '%_%',
  '*',
  '\\',
  '\\%',
  '1; select pg_sleep(5)',
  "' union select * from users --",
  '*/ or /*',
  "admin'--",
];
const words = ['wa', 'Walter', 'ana', 'de vries', 'Guest', 'Member', 'Accepted', 'PendingAcceptance', 'mail', 'fabrikam.test', 'contoso.test', 'Partners', 'x'];
const unicodeBits = [
  'Zoë',
  'Ångström',
  '🦊',
  '👩‍👩‍👧',
  '\u202e',
  '\ufeff',
  '\u200b',
  'ＷＡ',
  'ß',
  'İ',
  '漢字',
  'עברית',
  'é',
  '\u0301',
  '\u0000',
  '\u0007',
  '\t',
  '\n',
  '\r\n',
  '\u{10FFFF}',
  '\uFFFF',
];
const ops = ['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'EQ', 'Ne', 'like', '=', 'has', 'in'];
const datetimes = [
  '2026-01-31T00:00:00Z',
  '2026-01-31',
  '2026-11-01T09:00:00.1234567+02:00',
  '1970-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '2026-13-45T25:61:00Z',
  '0000-00-00',
];
const guids = ['9f3c1a2b-0000-4000-8000-00000000abcd', '00000000-0000-0000-0000-000000000000', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF'];

function randomText(r: Rng, max = 12): string {
  let s = '';
  const n = r.int(max);
  for (let i = 0; i < n; i++) {
    const k = r.int(10);
    if (k < 4) s += String.fromCharCode(32 + r.int(95));
    else if (k < 6) s += r.pick(unicodeBits);
    else if (k < 8) s += r.pick(words);
    else s += String.fromCodePoint(r.chance(0.5) ? 0xa0 + r.int(0x700) : 0x4e00 + r.int(0x500));
  }
  return s;
}

const quote = (v: string) => `'${v.replace(/'/g, "''")}'`;

function literal(r: Rng): string {
  switch (r.int(12)) {
    case 0:
      return quote(r.pick(injections));
    case 1:
      return quote(randomText(r));
    case 2:
      return quote(r.pick(words));
    case 3:
      return r.pick(datetimes);
    case 4:
      return r.pick(guids);
    case 5:
      return quote(r.pick(guids));
    case 6:
      return r.pick(['true', 'false', 'null', 'TRUE', 'Null']);
    case 7:
      return r.pick(['0', '-1', '1.5', '1e308', '-1e999', '42', '007']);
    case 8:
      return quote(r.pick(['Guest', 'Member', 'guest', 'Invitation', 'Accepted', 'PendingAcceptance', 'Unified']));
    case 9:
      return `'${r.pick(injections)}'`; // not escaped: the quote ends the literal early
    case 10:
      return quote(r.pick(datetimes));
    default:
      return quote(`${r.pick(words)}${r.pick(unicodeBits)}`);
  }
}

function atom(r: Rng, props: readonly string[]): string {
  const prop = r.chance(0.9) ? r.pick(props) : r.pick(junkProps);
  switch (r.int(8)) {
    case 0:
    case 1:
    case 2:
      return `${prop} ${r.pick(ops)} ${literal(r)}`;
    case 3:
      return `${prop} in (${Array.from({ length: 1 + r.int(4) }, () => literal(r)).join(r.pick([',', ', ', ' , ']))})`;
    case 4:
      return `${r.pick(['startsWith', 'startswith', 'endsWith', 'ENDSWITH', 'contains', 'substringof'])}(${prop}, ${literal(r)})`;
    case 5:
      return `otherMails/any(${r.pick(['x', 'm', 'X'])}:${r.pick(['x', 'm', 'X', 'displayName'])} ${r.pick(ops)} ${literal(r)})`;
    case 6:
      return `identities/any(i:${r.pick(['i/issuer', 'i/issuerAssignedId', 'i/signInType', 'i', 'i/nope', 'issuer', 'displayName'])} ${r.pick(ops)} ${literal(r)})`;
    default:
      return `${prop}/${r.pick(['any', 'all'])}(x:x eq ${literal(r)})`;
  }
}

function expression(r: Rng, props: readonly string[], depth = 0): string {
  if (depth > 3 || r.chance(0.35)) return atom(r, props);
  switch (r.int(4)) {
    case 0:
      return `${expression(r, props, depth + 1)} ${r.pick(['and', 'or', 'AND', 'Or'])} ${expression(r, props, depth + 1)}`;
    case 1:
      return `not ${expression(r, props, depth + 1)}`;
    case 2:
      return `(${expression(r, props, depth + 1)})`;
    default:
      return `not (${expression(r, props, depth + 1)})`;
  }
}

/** Grammar-aware damage: cut, splice, repeat, nest, pad, or replace with noise. */
function mutate(r: Rng, s: string, fragments: readonly string[]): string {
  switch (r.int(11)) {
    case 0:
      return s.slice(0, r.int(s.length + 1));
    case 1: {
      const at = r.int(s.length + 1);
      return s.slice(0, at) + r.pick(["'", '(', ')', ',', ':', '/', '"', ' ', '\\', '-', '$', '@', '%', ...unicodeBits]) + s.slice(at);
    }
    case 2: {
      const at = r.int(s.length + 1);
      return s.slice(0, at) + s.slice(at + 1 + r.int(6));
    }
    case 3: {
      const at = r.int(s.length + 1);
      return s.slice(0, at) + r.pick(fragments) + s.slice(at);
    }
    case 4: {
      const n = r.pick([2, 31, 32, 33, 100, 1000]);
      return `${'('.repeat(n)}${s}${')'.repeat(r.chance(0.8) ? n : r.int(n))}`;
    }
    case 5:
      return `${'not '.repeat(r.pick([1, 2, 30, 31, 40, 500]))}${s}`;
    case 6: {
      let out = s;
      const joiner = r.pick([' or ', ' and ']);
      const target = r.pick([1000, 4000, 4096, 5000, 20000]);
      while (out.length < target) out += joiner + r.pick(fragments);
      return out;
    }
    case 7:
      return randomText(r, 60);
    case 8:
      return Array.from({ length: r.int(40) }, () => String.fromCharCode(r.int(256))).join('');
    case 9:
      return s.repeat(1 + r.int(4));
    default:
      return `${s} ${r.pick(fragments)}`;
  }
}

type Kind = 'string' | 'guid' | 'datetime' | 'boolean' | 'enum';
/** Filterable properties with their value kinds (enum values listed), so well-typed filters reach the SQL. */
const typedUser: Record<string, [Kind, boolean, string[]?]> = {
  id: ['guid', false],
  displayName: ['string', false],
  givenName: ['string', true],
  surname: ['string', true],
  mail: ['string', true],
  userPrincipalName: ['string', false],
  userType: ['enum', false, ['Member', 'Guest', 'guest']],
  accountEnabled: ['boolean', false],
  createdDateTime: ['datetime', false],
  creationType: ['enum', true, ['Invitation', 'LocalAccount']],
  externalUserState: ['enum', true, ['PendingAcceptance', 'Accepted']],
  externalUserStateChangeDateTime: ['datetime', true],
  'signInActivity/lastSignInDateTime': ['datetime', true],
};
const typedGroup: Record<string, [Kind, boolean, string[]?]> = {
  id: ['guid', false],
  displayName: ['string', false],
  mailNickname: ['string', false],
  mail: ['string', true],
  mailEnabled: ['boolean', false],
  securityEnabled: ['boolean', false],
  createdDateTime: ['datetime', false],
};

function typedLiteral(r: Rng, [kind, nullable, values]: [Kind, boolean, string[]?]): string {
  if (nullable && r.chance(0.15)) return 'null';
  switch (kind) {
    case 'guid':
      return quote(r.pick(guids));
    case 'datetime':
      return r.pick(datetimes.slice(0, 5));
    case 'boolean':
      return r.pick(['true', 'false']);
    case 'enum':
      return quote(r.pick(values!));
    default:
      return quote(r.chance(0.4) ? r.pick(words).toLowerCase() : r.chance(0.5) ? r.pick(injections) : randomText(r, 8).split('\u0000').join(''));
  }
}

function typedAtom(r: Rng, table: Record<string, [Kind, boolean, string[]?]>): string {
  const [name, spec] = r.pick(Object.entries(table));
  const lambda = table === typedUser && r.chance(0.15);
  if (lambda)
    return r.chance(0.5)
      ? `otherMails/any(x:${r.chance(0.5) ? `x eq ${typedLiteral(r, ['string', false])}` : `startsWith(x, ${typedLiteral(r, ['string', false])})`})`
      : `identities/any(i:i/issuer eq ${quote(r.pick(['mail', 'contoso.test']))} and startsWith(i/issuerAssignedId, ${typedLiteral(r, ['string', false])}))`;
  if (spec[0] === 'string' && r.chance(0.4)) return `${r.pick(['startsWith', 'endsWith'])}(${name}, ${typedLiteral(r, ['string', false])})`;
  if (r.chance(0.15)) return `${name} in (${Array.from({ length: 1 + r.int(3) }, () => typedLiteral(r, spec)).join(', ')})`;
  const op = spec[0] === 'datetime' ? r.pick(['eq', 'ne', 'ge', 'le', 'gt', 'lt']) : r.pick(['eq', 'eq', 'ne']);
  return `${name} ${op} ${op === 'eq' || op === 'ne' ? typedLiteral(r, spec) : typedLiteral(r, [spec[0], false, spec[2]])}`;
}

function typedExpression(r: Rng, table: Record<string, [Kind, boolean, string[]?]>, depth = 0): string {
  if (depth > 2 || r.chance(0.4)) return typedAtom(r, table);
  const k = r.int(3);
  if (k === 0) return `${typedExpression(r, table, depth + 1)} ${r.pick(['and', 'or'])} ${typedExpression(r, table, depth + 1)}`;
  if (k === 1) return `not (${typedExpression(r, table, depth + 1)})`;
  return `(${typedExpression(r, table, depth + 1)})`;
}

function filterValue(r: Rng, props: readonly string[]): string {
  if (r.chance(0.4)) return typedExpression(r, props === userProps ? typedUser : typedGroup);
  const base = expression(r, props);
  if (r.chance(0.45)) return base;
  let s = mutate(r, base, [atom(r, props), 'and', 'or', 'not', '(', ')', ...ops]);
  if (r.chance(0.3)) s = mutate(r, s, [atom(r, props), literal(r)]);
  return s;
}

function orderbyValue(r: Rng, props: readonly string[]): string {
  const one = () => `${r.chance(0.85) ? r.pick(props) : r.pick(junkProps)}${r.pick(['', ' asc', ' desc', ' DESC', ' Asc', '  desc', ' up', ' desc desc'])}`;
  const base = r.chance(0.85) ? one() : `${one()},${one()}`;
  return r.chance(0.3) ? mutate(r, base, ['asc', 'desc', ',', '; drop table users', ...props]) : base;
}

function searchValue(r: Rng, props: readonly string[]): string {
  const searchable = props === userProps ? ['displayName', 'mail', 'userPrincipalName'] : ['displayName', 'description'];
  const clause = () => {
    const prop = r.chance(0.85) ? r.pick(searchable) : r.pick([...props, ...junkProps, '']);
    const value = r.chance(0.3) ? r.pick(injections) : r.chance(0.5) ? r.pick(words) : randomText(r);
    return `"${prop}:${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  };
  const n = 1 + (r.chance(0.3) ? r.int(12) : 0);
  const base = Array.from({ length: n }, clause).join(r.pick([' OR ', ' or ', ' OR ', ' AND ', ' ', 'OR']));
  if (r.chance(0.6)) return base;
  return mutate(r, base, [clause(), 'OR', 'AND', '"', ':', r.pick(words)]);
}

function selectValue(r: Rng, props: readonly string[]): string {
  const n = 1 + r.int(5);
  const base = Array.from({ length: n }, () => (r.chance(0.85) ? r.pick(props) : r.pick([...junkProps, '*', '', ' ']))).join(r.pick([',', ', ', ' ,']));
  return r.chance(0.25) ? mutate(r, base, [',', '*', '(', ')', ...props]) : base;
}

function topValue(r: Rng): string {
  if (r.chance(0.6)) return String(1 + r.int(r.chance(0.5) ? 10 : 999));
  return r.pick([
    '1',
    '2',
    '3',
    '5',
    '10',
    '100',
    '999',
    '1000',
    '0',
    '-1',
    '1.5',
    '1e2',
    ' 5',
    'abc',
    '99999999999999999999999',
    '',
    '0x10',
    '٣',
    '+5',
    '5 ',
    '1 or 1=1',
    '00002',
  ]);
}

function skiptokenValue(r: Rng, pool: readonly string[]): string {
  const real = pool.length ? r.pick(pool) : 'e30.AAAAAAAAAAAAAAAAAAAAAA';
  switch (r.int(7)) {
    case 0:
    case 1:
      return real;
    case 2:
      return mutate(r, real, ['.', '=', '%', 'A', '🦊', 'é']);
    case 3: {
      const [body] = real.split('.');
      return `${body}.${r.pick(['é'.repeat(22), '🦊'.repeat(11), 'A'.repeat(22), '\u0000'.repeat(22), '', 'x'])}`;
    }
    case 4:
      return Buffer.from(JSON.stringify({ f: 'x', k: [r.pick(injections)] })).toString('base64url') + '.AAAAAAAAAAAAAAAAAAAAAA';
    case 5:
      return r.pick(injections);
    default:
      return randomText(r, 40);
  }
}

/** encodeURIComponent that also takes the lone surrogates a cut through an emoji leaves (as U+FFFD, like a browser). */
const percentEncode = (v: string) => encodeURIComponent(v.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD'));

interface Sent {
  url: string;
  headers: Record<string, string>;
  /** Built to be accepted: the answer must be a 200 with a count. */
  wellFormed?: boolean;
}

/** A request Graph would accept (advanced query mode on), so the compiled SQL and paging run too. */
function wellFormedRequest(r: Rng, endpoint: string): Sent {
  const users = endpoint === '/v1.0/users';
  const params: [string, string][] = [['$count', 'true']];
  if (r.chance(0.7)) params.push(['$filter', typedExpression(r, users ? typedUser : typedGroup)]);
  if (r.chance(0.3))
    params.push([
      '$orderby',
      `${r.pick(users ? ['displayName', 'userPrincipalName', 'createdDateTime'] : ['displayName', 'createdDateTime'])}${r.pick(['', ' asc', ' desc'])}`,
    ]);
  if (r.chance(0.3)) {
    const fields = users ? ['displayName', 'mail', 'userPrincipalName'] : ['displayName', 'description'];
    const clauses = Array.from({ length: 1 + r.int(3) }, () => `"${r.pick(fields)}:${r.pick([...words, 'w', 'a', 'de', 'fabrikam', 'ana de'])}"`);
    params.push(['$search', clauses.join(' OR ')]);
  }
  if (r.chance(0.3)) params.push(['$select', Array.from({ length: 1 + r.int(4) }, () => r.pick(users ? userProps.slice(0, -1) : groupProps)).join(',')]);
  params.push(['$top', String(1 + r.int(r.chance(0.7) ? 5 : 200))]);
  const url = `${endpoint}?${params.map(([k, v]) => `${k}=${percentEncode(v)}`).join('&')}`;
  return { url, headers: { consistencylevel: 'eventual' }, wellFormed: true };
}

function buildRequest(r: Rng, pool: readonly string[]): Sent {
  const endpoint = r.pick(['/v1.0/users', '/v1.0/groups']);
  const props = endpoint === '/v1.0/users' ? userProps : groupProps;
  if (r.chance(0.35)) return wellFormedRequest(r, endpoint);
  const params: [string, string][] = [];
  if (r.chance(0.6)) params.push(['$filter', filterValue(r, props)]);
  if (r.chance(0.25)) params.push(['$orderby', orderbyValue(r, props)]);
  if (r.chance(0.25)) params.push(['$search', searchValue(r, props)]);
  if (r.chance(0.2)) params.push(['$select', selectValue(r, props)]);
  if (r.chance(0.3)) params.push(['$top', topValue(r)]);
  if (r.chance(0.12)) params.push(['$skiptoken', skiptokenValue(r, pool)]);
  if (r.chance(0.5)) params.push(['$count', r.chance(0.85) ? 'true' : r.pick(['false', 'TRUE', '1', '', 'yes'])]);
  if (r.chance(0.03))
    params.push([r.pick(['$skip', '$expand', '$format', '$foo', '$FILTER', 'filter', '$apply']), r.pick(['1', 'members', 'json', "displayName eq 'x'"])]);
  if (r.chance(0.03) && params.length) params.push(r.pick(params)); // a repeated option
  if (params.length === 0) params.push(['$filter', filterValue(r, props)]);

  const encoded = params.map(([k, v]) => {
    let value = percentEncode(v);
    // Broken percent-encoding and invalid UTF-8 byte sequences, sent as they are.
    if (r.chance(0.04)) value += r.pick(['%', '%zz', '%E0%A4', '%FF%FE', '%ED%A0%80', '%C0%AF', '%00', '%2', '+%2B+']);
    return `${r.chance(0.05) ? percentEncode(k) : k}=${value}`;
  });
  const headers: Record<string, string> = {};
  if (r.chance(0.6)) headers.consistencylevel = r.chance(0.85) ? 'eventual' : r.pick(['Eventual', 'EVENTUAL', 'session', '', 'eventual, eventual']);
  return { url: `${endpoint}?${encoded.join('&')}`, headers };
}

/** Problems with one answer, or none; a 200 also yields its next link for reuse. */
function check(res: LightMyRequestResponse, sent: Sent): { problems: string[]; nextLink?: string } {
  const problems: string[] = [];
  let body: Record<string, unknown>;
  try {
    body = res.json();
  } catch {
    return { problems: [`status ${res.statusCode} with a body that is not JSON: ${res.body.slice(0, 200)}`] };
  }
  if (res.statusCode >= 500) return { problems: [`status ${res.statusCode}: ${res.body.slice(0, 300)}`] };
  if (res.statusCode >= 400) {
    const error = body.error as { code?: unknown; message?: unknown; innerError?: Record<string, unknown> } | undefined;
    if (!error || typeof error !== 'object') return { problems: [`4xx without an error envelope: ${res.body.slice(0, 200)}`] };
    if (typeof error.code !== 'string' || !closedCodes.has(error.code)) problems.push(`unknown error code ${String(error.code)}`);
    else if (graphErrorStatus[error.code as keyof typeof graphErrorStatus] !== res.statusCode)
      problems.push(`code ${error.code} with status ${res.statusCode}`);
    if (typeof error.message !== 'string' || error.message.length === 0) problems.push('empty error message');
    if (typeof error.innerError?.['request-id'] !== 'string' || typeof error.innerError?.date !== 'string')
      problems.push('innerError without request-id or date');
    if (!String(res.headers['content-type']).startsWith('application/json')) problems.push(`error content-type ${String(res.headers['content-type'])}`);
    return { problems };
  }
  if (res.statusCode !== 200) return { problems: [`unexpected status ${res.statusCode}`] };
  const set = sent.url.startsWith('/v1.0/users') ? 'users' : 'groups';
  const context = body['@odata.context'];
  if (typeof context !== 'string' || !new RegExp(`^${BASE}/v1\\.0/\\$metadata#${set}(\\([A-Za-z,/]+\\))?$`).test(context))
    problems.push(`bad @odata.context ${String(context)}`);
  const value = body.value;
  if (!Array.isArray(value)) return { problems: [...problems, 'value is not an array'] };
  if (value.length > 999) problems.push(`page of ${value.length}`);
  const top = /[?&]\$top=(\d+)(&|$)/.exec(sent.url);
  if (top && value.length > Number(top[1])) problems.push(`page of ${value.length} for $top=${top[1]}`);
  const ids = new Set<string>();
  for (const item of value as Record<string, unknown>[]) {
    if (!item || typeof item !== 'object' || typeof item.id !== 'string' || !guidRe.test(item.id))
      problems.push(`item without a GUID id: ${JSON.stringify(item).slice(0, 100)}`);
    else if (ids.has(item.id)) problems.push(`item ${item.id} twice on one page`);
    else ids.add(item.id);
  }
  for (const key of Object.keys(body))
    if (!['@odata.context', '@odata.count', '@odata.nextLink', 'value'].includes(key)) problems.push(`unexpected key ${key}`);
  const count = body['@odata.count'];
  if (count !== undefined && (typeof count !== 'number' || !Number.isInteger(count) || count < value.length))
    problems.push(`bad @odata.count ${String(count)}`);
  const next = body['@odata.nextLink'];
  if (next !== undefined && (typeof next !== 'string' || !next.startsWith(`${BASE}/v1.0/${set}?`) || !next.includes('$skiptoken=')))
    problems.push(`bad nextLink ${String(next)}`);
  return { problems, nextLink: typeof next === 'string' ? next : undefined };
}

describe('OData query fuzzing', () => {
  let t: TestApp;
  let token: string;
  let userCount: number;
  const get = (url: string, headers: Record<string, string> = {}) => call(t, { token }, { method: 'GET', url, headers });
  const eventual = { consistencylevel: 'eventual' };

  beforeAll(async () => {
    t = await createTestApp();
    const writer = await t.clientToken(['User.ReadWrite.All', 'Group.ReadWrite.All']);
    token = await t.clientToken(['User.Read.All', 'Group.Read.All']);
    await seedDirectory(t.database.db, { tenantId: t.tenant.id, domain: 'contoso.test', users: 80, guestRatio: 0.4, clock: t.clock });
    await createMember(t, { token: writer }, 'Walter Otheremail', { otherMails: ['walter.private@fabrikam.test', 'WALTER@Northwind.test'] });
    await createMember(t, { token: writer }, 'Ana Percent', { jobTitle: '100% _literal_' });
    for (const [displayName, mailNickname, description] of [
      ['Partners 100% external', 'partners', 'Guests from partner_companies'],
      ['Sales', 'sales', null],
      ['Walter fan club', 'walterfans', "O'Brien's group"],
    ] as const) {
      const res = await call(
        t,
        { token: writer },
        {
          method: 'POST',
          url: '/v1.0/groups',
          payload: { displayName, mailNickname, description, mailEnabled: false, securityEnabled: true },
        },
      );
      expect(res.statusCode).toBe(201);
    }
    userCount = 80 + 2 + 1; // seeded, created, and the bootstrap administrator
  });
  afterAll(() => t?.close());

  it(`answers ${ITERATIONS} random and malformed queries with a collection or a Graph 4xx, never a 5xx (seed ${SEED})`, async () => {
    const r = prng(SEED);
    const pool: string[] = [];
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < ITERATIONS; i++) {
      const sent = buildRequest(
        r,
        pool.map((link) => decodeURIComponent(/\$skiptoken=([^&]*)/.exec(link)![1]!)),
      );
      const res = await get(sent.url, sent.headers);
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      const { problems, nextLink } = check(res, sent);
      if (sent.wellFormed && res.statusCode !== 200 && !/not supported|Could not find/.test(res.body))
        problems.push(`a well-formed query gave ${res.statusCode}: ${res.body.slice(0, 300)}`);
      if (problems.length) failures.push(`#${i} GET ${sent.url} ${JSON.stringify(sent.headers)} → ${problems.join('; ')}`);
      if (sent.wellFormed && res.statusCode === 200 && r.chance(0.2)) {
        // Walk every page: each object once, and as many as @odata.count says.
        const seen = new Set<string>();
        let body = res.json() as { value: { id: string }[]; '@odata.count': number; '@odata.nextLink'?: string };
        const count = body['@odata.count'];
        for (let pages = 0; ; pages++) {
          for (const item of body.value) {
            if (seen.has(item.id)) failures.push(`#${i} ${sent.url}: ${item.id} on two pages`);
            seen.add(item.id);
          }
          const link = body['@odata.nextLink'];
          if (!link || pages > 200) break;
          const page = await get(link.slice(BASE.length), sent.headers);
          if (page.statusCode !== 200) {
            failures.push(`#${i} ${link} → ${page.statusCode} ${page.body.slice(0, 200)}`);
            break;
          }
          body = page.json();
        }
        if (seen.size !== count) failures.push(`#${i} GET ${sent.url}: @odata.count ${count} but ${seen.size} objects over all pages`);
      }
      if (nextLink) {
        if (pool.length < 50) pool.push(nextLink);
        // Follow the link as given, now and then: the next page of the same query must answer too.
        if (r.chance(0.3)) {
          const followed = { url: nextLink.slice(BASE.length), headers: sent.headers };
          const page = await get(followed.url, followed.headers);
          const result = check(page, followed);
          if (page.statusCode !== 200) result.problems.push(`following nextLink gave ${page.statusCode}: ${page.body.slice(0, 200)}`);
          if (result.problems.length) failures.push(`#${i} next GET ${followed.url} → ${result.problems.join('; ')}`);
        }
      }
    }
    expect(failures.slice(0, 25), `${failures.length} failures with seed ${SEED}`).toEqual([]);
    // The generator must reach all three kinds of answer, or it is not testing much.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(ITERATIONS / 20);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(ITERATIONS / 4);
    expect(pool.length).toBeGreaterThan(0);
  });

  describe('injection-looking values are data: they match no rows', () => {
    const esc = (v: string) => v.replace(/'/g, "''");
    const searchEsc = (v: string) => v.replace(/["\\]/g, (c) => `\\${c}`);

    it('on users, in every filter form and in $search', async () => {
      for (const v of injections) {
        const filters = [
          `displayName eq '${esc(v)}'`,
          `mail eq '${esc(v)}'`,
          `startsWith(displayName, '${esc(v)}')`,
          `startsWith(userPrincipalName, '${esc(v)}')`,
          `userPrincipalName in ('${esc(v)}', '${esc(v)}x')`,
          `otherMails/any(x:x eq '${esc(v)}')`,
          `otherMails/any(x:startsWith(x, '${esc(v)}'))`,
          `identities/any(i:i/issuerAssignedId eq '${esc(v)}')`,
          `id eq '${esc(v)}'`,
        ];
        for (const f of filters) {
          const res = await get(`/v1.0/users?$filter=${encodeURIComponent(f)}&$count=true`, eventual);
          expect(res.statusCode, `${f}: ${res.body}`).toBe(200);
          expect(res.json().value, f).toEqual([]);
          expect(res.json()['@odata.count'], f).toBe(0);
        }
        for (const prop of ['displayName', 'mail', 'userPrincipalName']) {
          const s = `"${prop}:${searchEsc(v)}"`;
          const res = await get(`/v1.0/users?$search=${encodeURIComponent(s)}&$count=true`, eventual);
          expect(res.statusCode, `${s}: ${res.body}`).toBe(200);
          expect(res.json().value, s).toEqual([]);
          expect(res.json()['@odata.count'], s).toBe(0);
        }
      }
    });

    it('on groups, in filters and in $search (LIKE wildcards are escaped)', async () => {
      for (const v of injections) {
        for (const f of [`displayName eq '${esc(v)}'`, `startsWith(displayName, '${esc(v)}')`, `mailNickname eq '${esc(v)}'`, `mail in ('${esc(v)}')`]) {
          const res = await get(`/v1.0/groups?$filter=${encodeURIComponent(f)}`);
          expect(res.statusCode, `${f}: ${res.body}`).toBe(200);
          expect(res.json().value, f).toEqual([]);
        }
        for (const prop of ['displayName', 'description']) {
          const s = `"${prop}:${searchEsc(v)}"`;
          const res = await get(`/v1.0/groups?$search=${encodeURIComponent(s)}`, eventual);
          expect(res.statusCode, `${s}: ${res.body}`).toBe(200);
          // '%' itself appears in one group's name and '_' in one description, as words inside them, not at a word start.
          expect(res.json().value, s).toEqual([]);
        }
      }
      // The wildcard characters still match themselves where a word starts with them.
      const literal = await get(`/v1.0/groups?$search=${encodeURIComponent('"displayName:100%"')}`, eventual);
      expect(literal.json().value.map((g: { displayName: string }) => g.displayName)).toEqual(['Partners 100% external']);
    });

    it('refuses injection outside quotes instead of running it', async () => {
      for (const [option, value] of [
        ['$filter', "displayName eq 'x' or 1 eq 1"],
        ['$filter', "displayName eq 'x' or 1=1 --"],
        ['$filter', '1 eq 1'],
        ['$filter', "displayName eq 'x'; drop table users"],
        ['$filter', "displayName eq 'x' --"],
        ['$orderby', 'displayName; drop table users'],
        ['$orderby', 'displayName, (select 1)'],
        ['$orderby', 'display_name_lower'],
        ['$select', 'id,(select password_hash from users)'],
        ['$select', 'password_hash'],
        ['$top', '1 or 1=1'],
        ['$skiptoken', "' or 1=1 --"],
        ['$search', "displayName:' or 1=1 --"],
      ]) {
        const res = await get(`/v1.0/users?${option}=${encodeURIComponent(value!)}&$count=true`, eventual);
        expect([400], `${option}=${value}: ${res.body}`).toContain(res.statusCode);
        expect(closedCodes.has(res.json().error.code)).toBe(true);
      }
    });

    it('leaves the directory as it was', async () => {
      const res = await get('/v1.0/users/$count', eventual);
      expect(res.statusCode).toBe(200);
      expect(Number(res.body)).toBe(userCount);
      const groups = await get('/v1.0/groups?$count=true', eventual);
      expect(groups.json()['@odata.count']).toBe(3);
    });
  });

  describe('edges the generator may not hit', () => {
    it('answers the longest accepted or-chain, and-chain and in list on both collections', async () => {
      const chain = (joiner: string, clause: string) => {
        let s = clause;
        while ((s + joiner + clause).length <= 4096) s += joiner + clause;
        return s;
      };
      for (const endpoint of ['/v1.0/users', '/v1.0/groups']) {
        for (const f of [
          chain(' or ', "displayName eq 'walter'"),
          chain(' and ', "startsWith(displayName, 'w')"),
          chain(' or ', "not (displayName eq 'x')"),
          `displayName in (${Array.from({ length: 100 }, (_, i) => `'name ${i}'`).join(',')})`,
          `${'('.repeat(31)}displayName eq 'x'${')'.repeat(31)}`,
          `${'not '.repeat(31)}displayName eq 'x'`,
        ]) {
          const res = await get(`${endpoint}?$filter=${encodeURIComponent(f)}&$count=true`, eventual);
          expect(res.statusCode, `${endpoint} ${f.slice(0, 60)}…: ${res.body.slice(0, 300)}`).toBe(200);
        }
      }
      const chained = await get(`/v1.0/users?$filter=${encodeURIComponent(chain(' or ', "otherMails/any(x:x eq 'walter@northwind.test')"))}`);
      expect(chained.statusCode).toBe(200);
      expect(chained.json().value).toHaveLength(1);
    });

    it('pages a $search whose fields share a term (mail = userPrincipalName) without losing or repeating anyone', async () => {
      const search = encodeURIComponent('"userPrincipalName:w" OR "mail:w"');
      for (const top of [1, 2, 3, 4, 5, 7, 11]) {
        const pages = await followPages(t, { token }, `/v1.0/users?$search=${search}&$count=true&$top=${top}`, eventual);
        const ids = pages.flatMap((p) => p.value.map((u) => u.id as string));
        expect(pages[0]!['@odata.count']).toBeGreaterThan(10);
        expect(new Set(ids).size, `$top=${top}`).toBe(ids.length);
        expect(ids.length, `$top=${top}`).toBe(pages[0]!['@odata.count']);
      }
    });

    it('reads query option names in any casing rather than ignoring them', async () => {
      const nobody = await get(`/v1.0/users?$FILTER=${encodeURIComponent("displayName eq 'nobody at all'")}`);
      expect(nobody.statusCode, nobody.body).toBe(200);
      expect(nobody.json().value).toEqual([]);
      const one = await get('/v1.0/users?$Top=1&$SELECT=id,displayName');
      expect(one.json().value).toHaveLength(1);
      expect(one.json()['@odata.context']).toBe(`${BASE}/v1.0/$metadata#users(id,displayName)`);
      const twice = await get(`/v1.0/users?$filter=${encodeURIComponent("displayName eq 'a'")}&$Filter=${encodeURIComponent("displayName eq 'b'")}`);
      expect(twice.statusCode).toBe(400);
      expect(twice.json().error.message).toBe("Query option '$filter' was specified more than once.");
      const skip = await get('/v1.0/users?$SKIP=10');
      expect(skip.statusCode).toBe(400);
    });

    it('refuses a lambda predicate that does not go through its range variable', async () => {
      for (const f of [
        "identities/any(i:displayName eq 'x')",
        "identities/any(i:issuer eq 'mail')",
        "otherMails/any(x:displayName eq 'x')",
        "otherMails/any(x:y eq 'x')",
      ]) {
        const res = await get(`/v1.0/users?$filter=${encodeURIComponent(f)}`);
        expect(res.statusCode, `${f}: ${res.body}`).toBe(400);
        expect(res.json().error.code).toBe('Request_BadRequest');
      }
    });

    it('validates both sides of and/or, even when the left side already needs advanced query mode', async () => {
      for (const [f, code] of [
        ["not (displayName eq 'x') or jobTitle eq 'x'", 'Request_UnsupportedQuery'],
        ["displayName ne 'x' and nope eq 'x'", 'Request_BadRequest'],
        ["endsWith(mail, 'x') or identities/any(i:displayName eq 'x')", 'Request_BadRequest'],
        ["displayName ne 'x' or accountEnabled eq 'yes'", 'Request_BadRequest'],
      ]) {
        const res = await get(`/v1.0/users?$filter=${encodeURIComponent(f!)}&$count=true`, eventual);
        expect(res.statusCode, `${f}: ${res.body}`).toBe(400);
        expect(res.json().error.code, f).toBe(code);
      }
      const groups = await get(`/v1.0/groups?$filter=${encodeURIComponent("not (displayName eq 'x') or groupTypes eq 'x'")}&$count=true`, eventual);
      expect(groups.statusCode, groups.body).toBe(400);
    });

    it('refuses NUL in query options on both engines, and treats other control characters as data', async () => {
      for (const v of ['\u0000', 'a\u0000b', '\u0007', '\u001b[31m', '\u007f']) {
        const nul = v.includes('\u0000');
        for (const [url, headers] of [
          [`/v1.0/users?$filter=${encodeURIComponent(`displayName eq '${v}' or startsWith(mail, '${v}')`)}`, {}],
          [`/v1.0/users?$filter=${encodeURIComponent(`otherMails/any(x:x eq '${v}')`)}`, {}],
          [`/v1.0/users?$search=${encodeURIComponent(`"displayName:${v}"`)}`, eventual],
          [`/v1.0/groups?$search=${encodeURIComponent(`"description:${v}"`)}`, eventual],
          [`/v1.0/groups?$filter=${encodeURIComponent(`mailNickname eq '${v}'`)}`, {}],
          [`/v1.0/users?$orderby=${encodeURIComponent(`displayName${v}`)}`, {}],
        ] as const) {
          const res = await get(url, headers);
          if (nul) {
            expect(res.statusCode, `${url}: ${res.body}`).toBe(400);
            expect(res.json().error.message).toContain('NUL');
          } else if (url.includes('$orderby')) {
            expect(res.statusCode, `${url}: ${res.body}`).toBe(400);
          } else {
            expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
            expect(res.json().value).toEqual([]);
          }
        }
      }
    });

    it('refuses skiptokens of another collection, another query, or with a non-ASCII signature', async () => {
      const users = await get('/v1.0/users?$top=2');
      const usersLink = users.json()['@odata.nextLink'] as string;
      const usersToken = decodeURIComponent(/\$skiptoken=([^&]*)/.exec(usersLink)![1]!);
      const sorted = await get('/v1.0/users?$top=2&$orderby=displayName');
      const sortedToken = decodeURIComponent(/\$skiptoken=([^&]*)/.exec(sorted.json()['@odata.nextLink'] as string)![1]!);
      const [body] = usersToken.split('.');
      for (const url of [
        `/v1.0/groups?$skiptoken=${encodeURIComponent(usersToken)}`,
        `/v1.0/users?$filter=${encodeURIComponent("userType eq 'Guest'")}&$skiptoken=${encodeURIComponent(usersToken)}`,
        `/v1.0/users?$orderby=createdDateTime&$skiptoken=${encodeURIComponent(sortedToken)}`,
        `/v1.0/users?$skiptoken=${encodeURIComponent(`${body}.${'é'.repeat(22)}`)}`,
        `/v1.0/users?$skiptoken=${encodeURIComponent(`${body}.${'🦊'.repeat(11)}`)}`,
      ]) {
        const res = await get(url);
        expect(res.statusCode, `${url}: ${res.body}`).toBe(400);
        expect(res.json().error.message).toContain('$skiptoken is not valid');
      }
      // The untouched links still work.
      expect((await get(usersLink.slice(BASE.length))).statusCode).toBe(200);
    });
  });
});
