import { badRequest } from '../graph/errors.js';

/** An opaque keyset position (created time and id of the last row of the page before). */
export function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

export function decodeCursor(token: unknown): [string, string] | null {
  if (token === undefined) return null;
  try {
    const v = JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string') return [v[0], v[1]];
  } catch {
    // fall through to the error below
  }
  throw badRequest(`The $skiptoken '${String(token).slice(0, 100)}' is not valid.`);
}

/** `$top` between 1 and `max`, `fallback` when absent. */
export function topOf(value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw badRequest(`$top must be a whole number from 1 to ${max}.`);
  return n;
}

/** The request URL with `$skiptoken` set to `token`. */
export function nextLink(baseUrl: string, requestUrl: string, token: string): string {
  const url = new URL(requestUrl, 'http://x');
  url.searchParams.set('$skiptoken', token);
  return `${baseUrl}${url.pathname}${url.search}`;
}
