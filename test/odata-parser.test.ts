import { describe, expect, it } from 'vitest';
import { parseFilter, parseSearch, type FilterNode } from '../src/graph/filter-parser.js';
import { decodeSkipToken, encodeSkipToken, normalizeSearchValue, searchRange, searchTerms } from '../src/graph/odata-query.js';
import { GraphError } from '../src/graph/errors.js';

/** Runs `fn` and returns the GraphError it must throw. */
function graphErrorOf(fn: () => unknown): GraphError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GraphError);
    return error as GraphError;
  }
  throw new Error('expected a GraphError, but nothing was thrown');
}

/** The 400 a bad `$filter` must give, with its message. */
function filterError(input: string): string {
  const e = graphErrorOf(() => parseFilter(input));
  expect(e.code).toBe('Request_BadRequest');
  expect(e.status).toBe(400);
  expect(e.message).toMatch(/^Invalid filter clause: /);
  return e.message;
}

const eq = (name: string, value: string | number | boolean | null): FilterNode => ({ kind: 'compare', op: 'eq', path: [name], value });

describe('parseFilter: comparisons and literals', () => {
  it('parses every comparison operator, case-insensitively', () => {
    for (const op of ['eq', 'ne', 'gt', 'ge', 'lt', 'le'] as const) {
      expect(parseFilter(`displayName ${op} 'x'`)).toEqual({ kind: 'compare', op, path: ['displayName'], value: 'x' });
      expect(parseFilter(`displayName ${op.toUpperCase()} 'x'`)).toEqual({ kind: 'compare', op, path: ['displayName'], value: 'x' });
    }
  });

  it('reads property paths with slashes', () => {
    expect(parseFilter('signInActivity/lastSignInDateTime le 2026-01-31T00:00:00Z')).toEqual({
      kind: 'compare',
      op: 'le',
      path: ['signInActivity', 'lastSignInDateTime'],
      value: '2026-01-31T00:00:00Z',
    });
  });

  it("unescapes '' inside string literals and keeps everything else verbatim", () => {
    expect(parseFilter("surname eq 'O''Brien'")).toEqual(eq('surname', "O'Brien"));
    expect(parseFilter("surname eq ''''")).toEqual(eq('surname', "'"));
    expect(parseFilter("surname eq ''")).toEqual(eq('surname', ''));
    expect(parseFilter("surname eq '''x'''")).toEqual(eq('surname', "'x'"));
    // Operators and parentheses inside quotes are data, not syntax.
    expect(parseFilter("displayName eq 'a or b) and (c'")).toEqual(eq('displayName', 'a or b) and (c'));
    expect(parseFilter('displayName eq \'Zoë 🦊 \\ "q"\'')).toEqual(eq('displayName', 'Zoë 🦊 \\ "q"'));
  });

  it('reads an injection-looking value as one string', () => {
    expect(parseFilter("displayName eq ''' or 1=1 --'")).toEqual(eq('displayName', "' or 1=1 --"));
    expect(parseFilter("displayName eq 'x''; drop table users; --'")).toEqual(eq('displayName', "x'; drop table users; --"));
  });

  it('reads true, false and null in any casing, and numbers', () => {
    expect(parseFilter('accountEnabled eq true')).toEqual(eq('accountEnabled', true));
    expect(parseFilter('accountEnabled eq FALSE')).toEqual(eq('accountEnabled', false));
    expect(parseFilter('mail eq Null')).toEqual(eq('mail', null));
    expect(parseFilter('n eq 42')).toEqual(eq('n', 42));
    expect(parseFilter('n eq -12')).toEqual(eq('n', -12));
    expect(parseFilter('n eq 1.5e3')).toEqual(eq('n', 1500));
  });

  it('reads an unquoted GUID as a string, in any case', () => {
    expect(parseFilter('id eq 9f3c1a2b-0000-4000-8000-00000000abcd')).toEqual(eq('id', '9f3c1a2b-0000-4000-8000-00000000abcd'));
    expect(parseFilter('id eq 9F3C1A2B-0000-4000-8000-00000000ABCD')).toEqual(eq('id', '9F3C1A2B-0000-4000-8000-00000000ABCD'));
    expect(parseFilter("id eq '9f3c1a2b-0000-4000-8000-00000000abcd'")).toEqual(eq('id', '9f3c1a2b-0000-4000-8000-00000000abcd'));
  });

  it('reads dates and date-times with Z, offsets and fractions', () => {
    for (const value of [
      '2026-01-31',
      '2026-01-31T10:00Z',
      '2026-01-31T10:00:00Z',
      '2026-01-31T10:00:00.1234567Z',
      '2026-01-31T10:00:00+02:00',
      '2026-01-31T10:00:00-05:30',
    ])
      expect(parseFilter(`createdDateTime ge ${value}`)).toEqual({ kind: 'compare', op: 'ge', path: ['createdDateTime'], value });
  });

  it('parses in lists, including null', () => {
    expect(parseFilter("userType in ('Guest', 'Member')")).toEqual({ kind: 'in', path: ['userType'], values: ['Guest', 'Member'] });
    expect(parseFilter("mail IN ('a@b.test',null)")).toEqual({ kind: 'in', path: ['mail'], values: ['a@b.test', null] });
    const hundred = Array.from({ length: 100 }, (_, i) => `'v${i}'`).join(',');
    expect((parseFilter(`mail in (${hundred})`) as { values: unknown[] }).values).toHaveLength(100);
  });

  it('parses startsWith and endsWith, case-insensitively', () => {
    expect(parseFilter("startsWith(displayName, 'wa')")).toEqual({ kind: 'function', name: 'startswith', path: ['displayName'], value: 'wa' });
    expect(parseFilter("ENDSWITH(mail,'@fabrikam.test')")).toEqual({ kind: 'function', name: 'endswith', path: ['mail'], value: '@fabrikam.test' });
  });

  it('ignores whitespace between tokens', () => {
    expect(parseFilter("  displayName\teq\n'x'\r\n  ")).toEqual(eq('displayName', 'x'));
    expect(parseFilter("(displayName eq 'x')and(mail eq 'y')")).toEqual({ kind: 'and', left: eq('displayName', 'x'), right: eq('mail', 'y') });
  });
});

describe('parseFilter: precedence of not, and, or', () => {
  const a = eq('a', '1');
  const b = eq('b', '2');
  const c = eq('c', '3');
  const d = eq('d', '4');

  it('binds and tighter than or, on either side', () => {
    expect(parseFilter("a eq '1' or b eq '2' and c eq '3'")).toEqual({ kind: 'or', left: a, right: { kind: 'and', left: b, right: c } });
    expect(parseFilter("a eq '1' and b eq '2' or c eq '3'")).toEqual({ kind: 'or', left: { kind: 'and', left: a, right: b }, right: c });
    expect(parseFilter("a eq '1' and b eq '2' or c eq '3' and d eq '4'")).toEqual({
      kind: 'or',
      left: { kind: 'and', left: a, right: b },
      right: { kind: 'and', left: c, right: d },
    });
  });

  it('binds not tightest: it negates one comparison, not the rest', () => {
    expect(parseFilter("not a eq '1' and b eq '2'")).toEqual({ kind: 'and', left: { kind: 'not', operand: a }, right: b });
    expect(parseFilter("not a eq '1' or b eq '2'")).toEqual({ kind: 'or', left: { kind: 'not', operand: a }, right: b });
    expect(parseFilter("a eq '1' and not b eq '2'")).toEqual({ kind: 'and', left: a, right: { kind: 'not', operand: b } });
    expect(parseFilter("not not a eq '1'")).toEqual({ kind: 'not', operand: { kind: 'not', operand: a } });
    expect(parseFilter("NOT a eq '1'")).toEqual({ kind: 'not', operand: a });
  });

  it('lets parentheses override precedence', () => {
    expect(parseFilter("(a eq '1' or b eq '2') and c eq '3'")).toEqual({ kind: 'and', left: { kind: 'or', left: a, right: b }, right: c });
    expect(parseFilter("not (a eq '1' or b eq '2')")).toEqual({ kind: 'not', operand: { kind: 'or', left: a, right: b } });
    expect(parseFilter("((((a eq '1'))))")).toEqual(a);
  });

  it('associates chains of the same operator to the left', () => {
    expect(parseFilter("a eq '1' or b eq '2' or c eq '3'")).toEqual({ kind: 'or', left: { kind: 'or', left: a, right: b }, right: c });
    expect(parseFilter("a eq '1' and b eq '2' and c eq '3'")).toEqual({ kind: 'and', left: { kind: 'and', left: a, right: b }, right: c });
  });

  it('reads and/or/not keywords in any casing', () => {
    expect(parseFilter("a eq '1' AND b eq '2' Or c eq '3'")).toEqual({ kind: 'or', left: { kind: 'and', left: a, right: b }, right: c });
  });
});

describe('parseFilter: any() lambdas', () => {
  it('parses any() over a collection of strings', () => {
    expect(parseFilter("otherMails/any(x:x eq 'a@b.test')")).toEqual({
      kind: 'any',
      path: ['otherMails'],
      variable: 'x',
      predicate: { kind: 'compare', op: 'eq', path: ['x'], value: 'a@b.test' },
    });
  });

  it('parses any() over complex values with sub-paths, functions and boolean operators', () => {
    expect(parseFilter("identities/ANY( i : i/issuer eq 'mail' and startsWith(i/issuerAssignedId, 'ana') )")).toEqual({
      kind: 'any',
      path: ['identities'],
      variable: 'i',
      predicate: {
        kind: 'and',
        left: { kind: 'compare', op: 'eq', path: ['i', 'issuer'], value: 'mail' },
        right: { kind: 'function', name: 'startswith', path: ['i', 'issuerAssignedId'], value: 'ana' },
      },
    });
  });

  it('combines any() with other clauses', () => {
    expect(parseFilter("userType eq 'Guest' and not otherMails/any(m:m eq 'x')")).toEqual({
      kind: 'and',
      left: eq('userType', 'Guest'),
      right: { kind: 'not', operand: { kind: 'any', path: ['otherMails'], variable: 'm', predicate: eq('m', 'x') } },
    });
  });

  it('refuses all(), and any() without a range variable or colon', () => {
    expect(filterError("otherMails/all(x:x eq 'a')")).toContain("'all' is not supported");
    expect(filterError("otherMails/any(:x eq 'a')")).toContain('range variable');
    expect(filterError("otherMails/any(x x eq 'a')")).toContain("expected ':'");
    expect(filterError("otherMails/any(x:x eq 'a'")).toContain("expected ')'");
    expect(filterError("any(x:x eq 'a')")).toContain("the function 'any' is not supported");
  });
});

describe('parseFilter: errors', () => {
  it('refuses an empty expression', () => {
    expect(filterError('')).toContain('empty');
    expect(filterError('   ')).toContain('empty');
  });

  it('names the position of an unterminated string', () => {
    expect(filterError("displayName eq 'abc")).toContain('unterminated string literal at position 15');
    expect(filterError("displayName eq 'it''s")).toContain('unterminated string literal at position 15');
  });

  it('names an unexpected character and its position', () => {
    expect(filterError("displayName = 'x'")).toContain("unexpected '=' at position 12");
    expect(filterError("displayName eq 'x'; drop table users")).toContain("unexpected ';' at position 18");
    expect(filterError('displayName eq "x"')).toContain(`unexpected '"'`);
    expect(filterError("displayName eq 'a' or 1=1 --")).toContain("unexpected '='");
    expect(filterError("displayNäme eq 'x'")).toContain("unexpected 'ä'");
    expect(filterError("displayName eq - 'x'")).toContain("unexpected '-'");
  });

  it('refuses missing values, operators and properties', () => {
    expect(filterError('displayName eq')).toContain('a value is missing');
    expect(filterError('displayName')).toContain("expected an operator after 'displayName' but found end of expression");
    expect(filterError("eq 'x'")).toContain("expected an operator after 'eq'");
    expect(filterError("'x' eq displayName")).toContain('expected a property');
    expect(filterError("signInActivity/ 'x'")).toContain("expected a property after '/' at position 14");
    expect(filterError('displayName eq displayName')).toContain('expected a value');
    expect(filterError("displayName like 'x'")).toContain("the operator 'like' is not supported");
    expect(filterError("displayName eq 'x' and")).toContain('expected a property but found end of expression');
    expect(filterError('not')).toContain('expected a property');
  });

  it('refuses unbalanced parentheses and trailing tokens', () => {
    expect(filterError("(displayName eq 'x'")).toContain("expected ')' but found end of expression");
    expect(filterError("displayName eq 'x')")).toContain("unexpected ')' at position 18");
    expect(filterError("displayName eq 'x' 'y'")).toContain("unexpected 'y'");
    expect(filterError("displayName eq 'x' mail eq 'y'")).toContain("unexpected 'mail'");
    expect(filterError('()')).toContain('expected a property');
  });

  it('refuses bad in lists', () => {
    expect(filterError('mail in ()')).toContain('expected a value');
    expect(filterError("mail in 'a'")).toContain("expected '('");
    expect(filterError("mail in ('a',)")).toContain('expected a value');
    expect(filterError("mail in ('a' 'b')")).toContain("expected ')'");
    const many = Array.from({ length: 101 }, (_, i) => `'v${i}'`).join(',');
    expect(filterError(`mail in (${many})`)).toContain('at most 100');
  });

  it('refuses unknown functions and non-string function arguments', () => {
    expect(filterError("contains(displayName, 'x')")).toContain("the function 'contains' is not supported");
    expect(filterError("substringof('x', displayName)")).toContain("the function 'substringof' is not supported");
    expect(filterError('startsWith(displayName, 1)')).toContain('startsWith needs a string value');
    expect(filterError("startsWith(displayName 'x')")).toContain("expected ','");
    expect(filterError("startsWith('x', displayName)")).toContain('expected a property');
  });

  it('refuses expressions longer than 4096 characters', () => {
    const long = `displayName eq '${'a'.repeat(4100)}'`;
    expect(filterError(long)).toContain('longer than 4096');
    const justFits = `displayName eq '${'a'.repeat(4096 - 17)}'`;
    expect(justFits).toHaveLength(4096);
    expect(parseFilter(justFits)).toEqual(eq('displayName', 'a'.repeat(4096 - 17)));
  });

  it('refuses deep nesting instead of overflowing the stack', () => {
    expect(filterError(`${'('.repeat(33)}a eq '1'${')'.repeat(33)}`)).toContain('nested too deeply');
    expect(filterError(`${'not '.repeat(40)}a eq '1'`)).toContain('nested too deeply');
    expect(filterError(`${'('.repeat(2000)}`)).toContain('nested too deeply');
    expect(filterError(`${'otherMails/any(x:'.repeat(40)}x eq 'a'${')'.repeat(40)}`)).toContain('nested too deeply');
    // 31 levels still parse.
    expect(parseFilter(`${'('.repeat(31)}a eq '1'${')'.repeat(31)}`)).toEqual(eq('a', '1'));
  });
});

describe('parseSearch', () => {
  const syntaxError = (input: string): string => {
    const e = graphErrorOf(() => parseSearch(input));
    expect(e.code).toBe('Request_BadRequest');
    expect(e.status).toBe(400);
    return e.message;
  };

  it('parses one quoted clause', () => {
    expect(parseSearch('"displayName:wa"')).toEqual([{ property: 'displayName', value: 'wa' }]);
    expect(parseSearch('  "displayName:wa"  ')).toEqual([{ property: 'displayName', value: 'wa' }]);
  });

  it('keeps the value after the first colon as it is, spaces and colons included', () => {
    expect(parseSearch('"displayName:ana de"')).toEqual([{ property: 'displayName', value: 'ana de' }]);
    expect(parseSearch('"mail:a:b"')).toEqual([{ property: 'mail', value: 'a:b' }]);
    expect(parseSearch('" displayName :x"')).toEqual([{ property: 'displayName', value: 'x' }]);
  });

  it('joins clauses with OR in any casing', () => {
    expect(parseSearch('"displayName:wa" OR "mail:wa"')).toEqual([
      { property: 'displayName', value: 'wa' },
      { property: 'mail', value: 'wa' },
    ]);
    expect(parseSearch('"displayName:a" or "mail:b" Or "userPrincipalName:c"')).toHaveLength(3);
  });

  it('unescapes backslash-escaped quotes inside a clause', () => {
    expect(parseSearch('"displayName:say \\"hi\\""')).toEqual([{ property: 'displayName', value: 'say "hi"' }]);
    expect(parseSearch('"displayName:back\\\\slash"')).toEqual([{ property: 'displayName', value: 'back\\slash' }]);
  });

  it('reads injection-looking values as plain values', () => {
    expect(parseSearch(`"displayName:' or 1=1 --"`)).toEqual([{ property: 'displayName', value: "' or 1=1 --" }]);
    expect(parseSearch('"displayName:%_*"')).toEqual([{ property: 'displayName', value: '%_*' }]);
  });

  it('refuses unquoted words, AND, and missing or empty property names', () => {
    expect(syntaxError('wa')).toMatch(/must be quoted/);
    expect(syntaxError('')).toMatch(/must be quoted/);
    expect(syntaxError('"displayName:wa')).toMatch(/must be quoted/);
    expect(syntaxError('"displayName:wa" AND "mail:wa"')).toMatch(/only OR/);
    expect(syntaxError('"displayName:wa" "mail:wa"')).toMatch(/only OR/);
    expect(syntaxError('"displayName:wa" OR')).toMatch(/^Syntax error/);
    expect(syntaxError('"displayName:wa" OR ')).toMatch(/must be quoted/);
    expect(syntaxError('"displayName:wa" OR mail:wa')).toMatch(/must be quoted/);
    expect(syntaxError('"wa"')).toContain(`'wa' must have the form "property:value"`);
    expect(syntaxError('":wa"')).toContain('must have the form');
  });

  it('takes at most ten clauses', () => {
    const clauses = (n: number) => Array.from({ length: n }, (_, i) => `"displayName:w${i}"`).join(' OR ');
    expect(parseSearch(clauses(10))).toHaveLength(10);
    expect(syntaxError(clauses(11))).toContain('at most 10 clauses');
  });
});

describe('searchTerms and search values', () => {
  it('lists every suffix that starts at a word', () => {
    expect(searchTerms('Ana de Vries')).toEqual(['ana de vries', 'de vries', 'vries']);
    expect(searchTerms("O'Brien-Smith")).toEqual(["o'brien-smith", 'brien-smith', 'smith']);
    expect(searchTerms('ana.de.vries@fabrikam.test')).toEqual([
      'ana.de.vries@fabrikam.test',
      'de.vries@fabrikam.test',
      'vries@fabrikam.test',
      'fabrikam.test',
      'test',
    ]);
  });

  it('folds case, compatibility forms and whitespace like the search value', () => {
    expect(searchTerms('  ＷＡＬＴＥＲ   van\tDIJK ')).toEqual(['walter van dijk', 'van dijk', 'dijk']);
    expect(searchTerms('Zoë Ångström')).toEqual(['zoë ångström', 'ångström']);
    expect(normalizeSearchValue('  ＷＡＬＴＥＲ   van\tDIJK ')).toBe('walter van dijk');
  });

  it('stops at maxTerms and at 200 characters', () => {
    expect(searchTerms('a b c d e f g h i j')).toHaveLength(8);
    expect(searchTerms('a b c d e', 2)).toEqual(['a b c d e', 'b c d e']);
    expect(searchTerms('a b c', 1)).toEqual(['a b c']);
    const [first] = searchTerms('x'.repeat(500));
    expect(first).toHaveLength(200);
  });

  it('gives nothing for null, empty or wordless values', () => {
    expect(searchTerms(null)).toEqual([]);
    expect(searchTerms(undefined)).toEqual([]);
    expect(searchTerms('')).toEqual([]);
    expect(searchTerms('  -- .. ')).toEqual([]);
  });

  it('makes a prefix range that contains every term starting with the value and nothing else', () => {
    const [low, high] = searchRange(' Wa ');
    expect(low).toBe('wa');
    for (const term of ['wa', 'walter', 'wanda de vries', 'wa\u{10FFFE}']) expect(term >= low && term < high).toBe(true);
    for (const term of ['w', 'vz', 'wb', 'xa', 'a wa']) expect(term >= low && term < high).toBe(false);
  });
});

describe('skiptokens', () => {
  const secret = 'unit-test-secret';
  const invalid = (fingerprint: string, token: string) => {
    const e = graphErrorOf(() => decodeSkipToken(secret, fingerprint, token));
    expect(e.code).toBe('Request_BadRequest');
    expect(e.message).toContain('$skiptoken is not valid');
  };

  it('round-trips the keyset position', () => {
    for (const position of [['9f3c1a2b-0000-4000-8000-00000000abcd'], ['ana de vries', 'id-1'], ['2026-01-31T00:00:00.000Z', 7], ['zoë 🦊', "o'brien"]]) {
      const token = encodeSkipToken(secret, 'fp', position);
      expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
      expect(decodeSkipToken(secret, 'fp', token)).toEqual(position);
    }
  });

  it('is opaque: the position is not readable as plain text in the token', () => {
    const token = encodeSkipToken(secret, 'fp', ['walter@contoso.test']);
    expect(token).not.toContain('walter');
  });

  it('refuses a token of another query or another server secret', () => {
    const token = encodeSkipToken(secret, 'fp', ['a']);
    invalid('other-fp', token);
    expect(() => decodeSkipToken('another-secret', 'fp', token)).toThrow(GraphError);
  });

  it('refuses tampered, truncated and malformed tokens', () => {
    const token = encodeSkipToken(secret, 'fp', ['a', 'b']);
    const [body, mac] = token.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ f: 'fp', k: ['z', 'z'] })).toString('base64url');
    invalid('fp', `${forged}.${mac}`);
    invalid('fp', `${body}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`);
    invalid('fp', `${body}.${mac.slice(0, -1)}`);
    invalid('fp', `${body}.${mac}x`);
    invalid('fp', body);
    invalid('fp', `.${mac}`);
    invalid('fp', `${body}.`);
    invalid('fp', '');
    invalid('fp', '.');
    invalid('fp', 'not-a-token');
    invalid('fp', `${body}.${mac}`.padEnd(3000, 'A'));
  });

  it('refuses a mac with non-ASCII characters of the right length (no crash comparing bytes)', () => {
    const token = encodeSkipToken(secret, 'fp', ['a']);
    const [body, mac] = token.split('.') as [string, string];
    invalid('fp', `${body}.${mac.slice(0, -1)}é`);
    invalid('fp', `${body}.${'🦊'.repeat(11)}`);
    invalid('fp', `${body}.${'\u0000'.repeat(22)}`);
  });
});
