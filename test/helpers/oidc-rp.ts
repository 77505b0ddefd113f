import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface RpResult {
  error?: string;
  error_description?: string;
  tokens?: { id_token: string; access_token: string; refresh_token?: string; expires_in?: number; scope?: string };
  claims?: Record<string, unknown>;
}

/**
 * A relying party on its own port, built with openid-client as an application would be: `/login`
 * starts the authorization code flow (PKCE, state, nonce), `/callback` completes it and answers
 * what it got (or the OAuth error) as JSON, so the test reads it as the browser lands there.
 */
export async function startRelyingParty(options: {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  /** Scope asked for; default openid profile email offline_access. */
  scope?: string;
  /** Port to listen on (picked beforehand when the redirect URI must be registered first). */
  port?: number;
}) {
  const port = options.port ?? (await freePort());
  const base = `http://127.0.0.1:${port}`;
  const redirectUri = `${base}/callback`;
  const config = await client.discovery(
    new URL(options.issuer),
    options.clientId,
    undefined,
    options.clientSecret ? client.ClientSecretBasic(options.clientSecret) : client.None(),
    { execute: [client.allowInsecureRequests] },
  );
  const pending = new Map<string, { verifier: string; nonce: string }>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    void (async () => {
      if (url.pathname === '/login') {
        const verifier = client.randomPKCECodeVerifier();
        const state = client.randomState();
        const nonce = client.randomNonce();
        pending.set(state, { verifier, nonce });
        const target = client.buildAuthorizationUrl(config, {
          redirect_uri: redirectUri,
          scope: options.scope ?? 'openid profile email offline_access',
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state,
          nonce,
          ...Object.fromEntries(url.searchParams),
        });
        res.writeHead(302, { location: target.href });
        return res.end();
      }
      if (url.pathname === '/callback') {
        const state = url.searchParams.get('state') ?? '';
        const flow = pending.get(state);
        if (url.searchParams.get('error'))
          return json(200, { error: url.searchParams.get('error'), error_description: url.searchParams.get('error_description') });
        if (!flow) return json(400, { error: 'unknown state' });
        pending.delete(state);
        try {
          const tokens = await client.authorizationCodeGrant(config, url, { pkceCodeVerifier: flow.verifier, expectedState: state, expectedNonce: flow.nonce });
          return json(200, { tokens, claims: tokens.claims() });
        } catch (error) {
          const e = error as { error?: string; error_description?: string; message: string };
          return json(200, { error: e.error ?? e.message, error_description: e.error_description });
        }
      }
      json(404, { error: 'not found' });
    })();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    config,
    base,
    redirectUri,
    loginUrl: `${base}/login`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
export type RelyingParty = Awaited<ReturnType<typeof startRelyingParty>>;

/**
 * A browser for real HTTP: a cookie jar (by name; all servers here are on 127.0.0.1), redirects
 * followed by hand so each hop's cookies are kept, forms posted as a browser posts them.
 */
export function httpBrowser() {
  const jar = new Map<string, string>();
  const store = (res: Response) => {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      const expired =
        attrs.some((a) => /^\s*expires=/i.test(a) && new Date(a.split('=')[1]!).getTime() < Date.now()) || attrs.some((a) => /^\s*max-age=0/i.test(a));
      if (!value || expired) jar.delete(name);
      else jar.set(name, value);
    }
  };
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');

  /** `from`: the page a form is posted from, whose origin a browser sends with the post. */
  async function request(url: string, init: { method?: string; form?: Record<string, string>; from?: string } = {}): Promise<Response> {
    const res = await fetch(url, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      redirect: 'manual',
      headers: {
        cookie: cookieHeader(),
        ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...(init.from ? { origin: new URL(init.from).origin } : {}),
      },
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
    });
    store(res);
    return res;
  }

  /** Requests and follows redirects; answers the final response with its URL and body. */
  async function go(url: string, init: { method?: string; form?: Record<string, string>; from?: string } = {}) {
    let res = await request(url, init);
    let current = url;
    for (let hops = 0; res.status >= 300 && res.status < 400 && res.headers.get('location'); hops++) {
      if (hops > 20) throw new Error('too many redirects');
      current = new URL(res.headers.get('location')!, current).href;
      res = await request(current);
    }
    return { status: res.status, url: current, body: await res.text(), headers: res.headers };
  }

  return {
    go,
    /** Submits the form whose action ends with `/step` found in `page` (its hidden fields included) with `fields`. */
    submit(page: { url: string; body: string }, step: string, fields: Record<string, string> = {}) {
      const forms = [...page.body.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)];
      const form = forms.find((f) => decode(f[1]!).endsWith(`/${step}`));
      if (!form) throw new Error(`no form for ${step} in: ${page.body}`);
      const hidden = Object.fromEntries(
        [...form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [decode(m[1]!), decode(m[2]!)]),
      );
      return go(new URL(decode(form[1]!), page.url).href, { form: { ...hidden, ...fields }, from: page.url });
    },
    cookie: (name: string) => jar.get(name),
    forget: (name: string) => jar.delete(name),
  };
}
export type HttpBrowser = ReturnType<typeof httpBrowser>;

const decode = (s: string) => s.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&');
