import { badRequest } from './errors.js';

/**
 * OData `$filter` syntax tree for the subset Graph's directory supports:
 * comparisons, `in`, `startsWith`/`endsWith`, `and`/`or`/`not`, and `any()` lambdas.
 */
export type Literal = string | number | boolean | null;

export type FilterNode =
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { kind: 'not'; operand: FilterNode }
  | { kind: 'compare'; op: CompareOp; path: string[]; value: Literal }
  | { kind: 'in'; path: string[]; values: Literal[] }
  | { kind: 'function'; name: 'startswith' | 'endswith'; path: string[]; value: string }
  | { kind: 'any'; path: string[]; variable: string; predicate: FilterNode };

export type CompareOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

type Token =
  | { t: 'ident'; v: string; pos: number }
  | { t: 'string'; v: string; pos: number }
  | { t: 'number'; v: number; pos: number }
  | { t: 'datetime'; v: string; pos: number }
  | { t: 'punct'; v: '(' | ')' | ',' | ':' | '/'; pos: number };

const MAX_LENGTH = 4096;
const MAX_DEPTH = 32;
const datetimeLiteral = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2}))?/;
const guidLiteral = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

const invalid = (detail: string) => badRequest(`Invalid filter clause: ${detail}`);

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= input.length) throw invalid(`unterminated string literal at position ${i}.`);
        if (input[j] === "'") {
          if (input[j + 1] === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += input[j];
        j++;
      }
      tokens.push({ t: 'string', v: value, pos: i });
      i = j + 1;
    } else if ('(),:/'.includes(c)) {
      tokens.push({ t: 'punct', v: c as '(' | ')' | ',' | ':' | '/', pos: i });
      i++;
    } else if (/[0-9-]/.test(c)) {
      const rest = input.slice(i);
      const guid = guidLiteral.exec(rest);
      const dt = datetimeLiteral.exec(rest);
      if (guid) {
        tokens.push({ t: 'string', v: guid[0], pos: i });
        i += guid[0].length;
      } else if (dt && dt[0].length >= 10) {
        tokens.push({ t: 'datetime', v: dt[0], pos: i });
        i += dt[0].length;
      } else {
        const num = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(rest);
        if (!num) throw invalid(`unexpected '${c}' at position ${i}.`);
        tokens.push({ t: 'number', v: Number(num[0]), pos: i });
        i += num[0].length;
      }
    } else if (/[A-Za-z_@$]/.test(c)) {
      const m = /^[A-Za-z_@$][A-Za-z0-9_.@$]*/.exec(input.slice(i))!;
      tokens.push({ t: 'ident', v: m[0], pos: i });
      i += m[0].length;
    } else {
      throw invalid(`unexpected '${c}' at position ${i}.`);
    }
  }
  return tokens;
}

/** Parses a `$filter` expression; throws a 400 GraphError on any syntax problem. */
export function parseFilter(input: string): FilterNode {
  if (input.length > MAX_LENGTH) throw invalid(`the expression is longer than ${MAX_LENGTH} characters.`);
  const tokens = tokenize(input);
  let pos = 0;
  let depth = 0;

  const peek = () => tokens[pos];
  const isWord = (tok: Token | undefined, word: string): boolean => tok?.t === 'ident' && tok.v.toLowerCase() === word;
  const isPunct = (tok: Token | undefined, p: string): boolean => tok?.t === 'punct' && tok.v === p;
  const describe = (tok: Token | undefined) => (tok ? `'${String(tok.v)}' at position ${tok.pos}` : 'end of expression');
  const expectPunct = (p: string) => {
    const tok = tokens[pos];
    if (!isPunct(tok, p)) throw invalid(`expected '${p}' but found ${describe(tok)}.`);
    pos++;
  };

  const enter = () => {
    if (++depth > MAX_DEPTH) throw invalid('the expression is nested too deeply.');
  };

  function parseOr(): FilterNode {
    let left = parseAnd();
    while (isWord(peek(), 'or')) {
      pos++;
      left = { kind: 'or', left, right: parseAnd() };
    }
    return left;
  }

  function parseAnd(): FilterNode {
    let left = parseUnary();
    while (isWord(peek(), 'and')) {
      pos++;
      left = { kind: 'and', left, right: parseUnary() };
    }
    return left;
  }

  function parseUnary(): FilterNode {
    enter();
    try {
      if (isWord(peek(), 'not')) {
        pos++;
        return { kind: 'not', operand: parseUnary() };
      }
      return parsePrimary();
    } finally {
      depth--;
    }
  }

  function parseLiteral(): Literal {
    const tok = tokens[pos++];
    if (!tok) throw invalid('a value is missing at the end of the expression.');
    if (tok.t === 'string' || tok.t === 'number' || tok.t === 'datetime') return tok.v;
    if (tok.t === 'ident') {
      const w = tok.v.toLowerCase();
      if (w === 'true') return true;
      if (w === 'false') return false;
      if (w === 'null') return null;
    }
    throw invalid(`expected a value but found ${describe(tok)}.`);
  }

  function parsePath(): string[] {
    const tok = tokens[pos];
    if (tok?.t !== 'ident') throw invalid(`expected a property but found ${describe(tok)}.`);
    pos++;
    const path = [tok.v];
    while (isPunct(peek(), '/')) {
      const next = tokens[pos + 1];
      if (next?.t !== 'ident') throw invalid(`expected a property after '/' at position ${tokens[pos]!.pos}.`);
      pos += 2;
      path.push(next.v);
    }
    return path;
  }

  function parsePrimary(): FilterNode {
    const tok = peek();
    if (isPunct(tok, '(')) {
      pos++;
      const inner = parseOr();
      expectPunct(')');
      return inner;
    }
    if (tok?.t === 'ident' && isPunct(tokens[pos + 1], '(')) {
      const name = tok.v.toLowerCase();
      if (name !== 'startswith' && name !== 'endswith') throw invalid(`the function '${tok.v}' is not supported.`);
      pos += 2;
      const path = parsePath();
      expectPunct(',');
      const valueTok = tokens[pos++];
      if (valueTok?.t !== 'string') throw invalid(`${tok.v} needs a string value.`);
      expectPunct(')');
      return { kind: 'function', name, path, value: valueTok.v };
    }
    const path = parsePath();
    const last = path[path.length - 1]!.toLowerCase();
    if ((last === 'any' || last === 'all') && isPunct(peek(), '(')) {
      if (last === 'all') throw invalid("the lambda operator 'all' is not supported.");
      pos++;
      const variable = tokens[pos];
      if (variable?.t !== 'ident') throw invalid('any() needs a range variable.');
      pos++;
      expectPunct(':');
      const predicate = parseOr();
      expectPunct(')');
      return { kind: 'any', path: path.slice(0, -1), variable: variable.v, predicate };
    }
    const opTok = tokens[pos];
    if (opTok?.t !== 'ident') throw invalid(`expected an operator after '${path.join('/')}' but found ${describe(opTok)}.`);
    const op = opTok.v.toLowerCase();
    pos++;
    if (op === 'in') {
      expectPunct('(');
      const values: Literal[] = [parseLiteral()];
      while (isPunct(peek(), ',')) {
        pos++;
        values.push(parseLiteral());
      }
      expectPunct(')');
      if (values.length > 100) throw invalid("'in' takes at most 100 values.");
      return { kind: 'in', path, values };
    }
    if (!['eq', 'ne', 'gt', 'ge', 'lt', 'le'].includes(op)) throw invalid(`the operator '${opTok.v}' is not supported.`);
    return { kind: 'compare', op: op as CompareOp, path, value: parseLiteral() };
  }

  if (tokens.length === 0) throw invalid('the expression is empty.');
  const tree = parseOr();
  if (pos < tokens.length) throw invalid(`unexpected ${describe(tokens[pos])}.`);
  return tree;
}

/** A `$search` clause: `"property:words"`. Clauses are joined with OR. */
export interface SearchClause {
  property: string;
  value: string;
}

/**
 * Parses Graph's `$search` syntax: `"displayName:wa"` or `"displayName:wa" OR "mail:wa"`.
 * The whole expression is quoted clauses joined by OR; AND and bare words are refused.
 */
export function parseSearch(input: string): SearchClause[] {
  const clauses: SearchClause[] = [];
  const re = /\s*"((?:[^"\\]|\\.)*)"\s*/y;
  let index = 0;
  for (;;) {
    re.lastIndex = index;
    const m = re.exec(input);
    if (!m) throw badRequest(`Syntax error: the $search expression must be quoted "property:value" clauses joined by OR.`);
    const body = m[1]!.replace(/\\(.)/g, '$1');
    const colon = body.indexOf(':');
    if (colon <= 0) throw badRequest(`Syntax error: '${body}' must have the form "property:value".`);
    clauses.push({ property: body.slice(0, colon).trim(), value: body.slice(colon + 1) });
    index = re.lastIndex;
    if (index >= input.length) break;
    const or = /OR\s+/iy;
    or.lastIndex = index;
    if (!or.exec(input)) throw badRequest(`Syntax error: only OR may join $search clauses.`);
    index = or.lastIndex;
    if (clauses.length >= 10) throw badRequest('$search takes at most 10 clauses.');
  }
  return clauses;
}
