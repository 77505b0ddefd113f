import type { LightMyRequestResponse } from 'fastify';
import { SESSION_COOKIE } from '../../src/auth/auth.service.js';
import { call, outboxFor, type Caller, type Session, type TestApp } from './test-app.js';

/**
 * A guest's browser on the server-rendered pages: form posts from one client IP (X-Forwarded-For;
 * test apps trust the proxy on loopback) and from Foyer's own origin, as a browser posts a page's
 * form, so tests do not share the per-IP code limit unless they mean to. `headers` adds to or
 * (with undefined) removes from what a post sends.
 */
export function browser(t: TestApp, ip: string) {
  const headers = { 'x-forwarded-for': ip, accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
  return {
    get: (url: string, cookie?: string) => t.app.inject({ method: 'GET', url, headers, cookies: cookie ? { [SESSION_COOKIE]: cookie } : {} }),
    post: (url: string, fields: Record<string, string>, cookie?: string, extra: Record<string, string | undefined> = {}) => {
      const sent: Record<string, string | undefined> = { ...headers, origin: t.origin, 'content-type': 'application/x-www-form-urlencoded', ...extra };
      return t.app.inject({
        method: 'POST',
        url,
        payload: new URLSearchParams(fields).toString(),
        headers: Object.fromEntries(Object.entries(sent).filter((e): e is [string, string] => e[1] !== undefined)),
        cookies: cookie ? { [SESSION_COOKIE]: cookie } : {},
      });
    },
  };
}
export type Browser = ReturnType<typeof browser>;

/** The `t` of a redeem link. */
export const tokenOf = (inviteRedeemUrl: string): string => new URL(inviteRedeemUrl).searchParams.get('t')!;
/** The path and query of a redeem link, for inject. */
export const pathOf = (url: string): string => url.replace(/^https?:\/\/[^/]+/, '');

/** Invites through POST /v1.0/invitations (or /v1.0/foyer/invitations with `groups`) and fails on anything but 201. */
export async function invite(t: TestApp, caller: Caller, email: string, extra: Record<string, unknown> = {}) {
  const url = 'groups' in extra ? '/v1.0/foyer/invitations' : '/v1.0/invitations';
  const res = await call(t, caller, {
    method: 'POST',
    url,
    payload: { invitedUserEmailAddress: email, inviteRedirectUrl: 'https://apps.contoso.test/start', ...extra },
  });
  if (res.statusCode !== 201) throw new Error(`invite ${email}: ${res.statusCode} ${res.body}`);
  return res.json() as { id: string; inviteRedeemUrl: string; invitedUser: { id: string; userPrincipalName: string } } & Record<string, unknown>;
}

/**
 * Reads one-time codes from the outbox. Messages share a created time while the test clock stands
 * still, so "newest" is told by the messages not seen before rather than by order.
 */
export function codeReader(t: TestApp) {
  const seen = new Set<string>();
  const codeMails = async (address: string) => (await outboxFor(t, address)).filter((m) => m.subject.includes('verification code'));
  return {
    /** The code of the one code email sent to `address` since the last look; fails unless there is exactly one. */
    async next(address: string): Promise<string> {
      const fresh = (await codeMails(address)).filter((m) => !seen.has(m.id));
      for (const m of fresh) seen.add(m.id);
      if (fresh.length !== 1) throw new Error(`expected one new code email to ${address}, found ${fresh.length}`);
      return /\b(\d{8})\b/.exec(fresh[0]!.text)![1]!;
    },
    /** How many code emails were ever sent to `address`. */
    async count(address: string): Promise<number> {
      return (await codeMails(address)).length;
    },
  };
}
export type CodeReader = ReturnType<typeof codeReader>;

/** A code no one was sent: the right one with its first digit changed. */
export const wrongCode = (code: string): string => `${(Number(code[0]) + 1) % 10}${code.slice(1)}`;

/** The session cookie a response sets, if any. */
export const sessionCookieOf = (res: LightMyRequestResponse): string | undefined => res.cookies.find((c) => c.name === SESSION_COOKIE && c.value)?.value;

/** Redeems a pending invitation the way a browser does (consent when asked, then the emailed code); returns the session cookie. */
export async function redeem(t: TestApp, codes: CodeReader, b: Browser, inviteRedeemUrl: string, email: string): Promise<string> {
  const token = tokenOf(inviteRedeemUrl);
  const landing = await b.get(pathOf(inviteRedeemUrl));
  if (landing.statusCode !== 200) throw new Error(`redeem page: ${landing.statusCode}`);
  if (landing.body.includes('Review permissions')) {
    const accepted = await b.post('/redeem/accept', { t: token });
    if (accepted.statusCode !== 200) throw new Error(`accept: ${accepted.statusCode}`);
  }
  const done = await b.post('/redeem/verify', { t: token, code: await codes.next(email) });
  if (done.statusCode !== 303) throw new Error(`verify: ${done.statusCode} ${done.body}`);
  return sessionCookieOf(done)!;
}

/** A page session as a Session for `call`: the CSRF token is the one /my puts in its forms. */
export async function pageSession(t: TestApp, cookie: string): Promise<Session> {
  const my = await t.app.inject({ method: 'GET', url: '/my', cookies: { [SESSION_COOKIE]: cookie } });
  const csrfToken = /name="csrf" value="([^"]+)"/.exec(my.body)?.[1];
  if (my.statusCode !== 200 || !csrfToken) throw new Error(`/my: ${my.statusCode}`);
  const me = await t.app.inject({ method: 'GET', url: '/v1.0/me', cookies: { [SESSION_COOKIE]: cookie } });
  return { cookie, csrfToken, userId: (me.json() as { id: string }).id };
}

/** Signs a redeemed guest in again with an emailed code; returns the session cookie. */
export async function signInWithCode(t: TestApp, codes: CodeReader, b: Browser, email: string): Promise<string> {
  const asked = await b.post('/signin', { email });
  if (asked.statusCode !== 200) throw new Error(`signin: ${asked.statusCode}`);
  const done = await b.post('/signin/verify', { email, code: await codes.next(email) });
  if (done.statusCode !== 303) throw new Error(`signin verify: ${done.statusCode} ${done.body}`);
  return sessionCookieOf(done)!;
}
