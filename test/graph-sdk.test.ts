import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  AuthenticationHandler,
  Client,
  CustomAuthenticationProvider,
  GraphError as SdkGraphError,
  PageIterator,
  RetryHandler,
  TelemetryHandler,
  type Context,
  type Middleware,
  type PageCollection,
} from '@microsoft/microsoft-graph-client';
import { createTestApp, TEST_SECRET, type TestApp } from './helpers/test-app.js';
import { createClientsService } from '../src/auth/clients.service.js';
import { seedDirectory } from '../src/directory/seed.js';

/**
 * The official Microsoft Graph JavaScript SDK against a real listening Foyer.
 *
 * The SDK only follows absolute `@odata.nextLink`s and only attaches the bearer token when the
 * URL is https (on graph.microsoft.com or a `customHosts` entry), so Foyer runs as deployed:
 * behind a TLS-terminating reverse proxy that sets X-Forwarded-Proto and X-Forwarded-Host, with
 * no configured base URL, so the links it writes come from the forwarded request.
 */

const guidRe = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A throw-away certificate for localhost (openssl is on every machine the tests run on). */
function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'foyer-tls-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost'].concat([
        '-addext',
        'subjectAltName=DNS:localhost',
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ]),
      { stdio: 'pipe' },
    );
    return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Reverse proxy: TLS in front, plain HTTP to Foyer, forwarding the original scheme and host. */
function tlsProxy(tls: { key: string; cert: string }, upstreamPort: () => number): https.Server {
  return https.createServer(tls, (req, res) => {
    const upstream = http.request(
      {
        host: '127.0.0.1',
        port: upstreamPort(),
        method: req.method,
        path: req.url,
        headers: { ...req.headers, 'x-forwarded-proto': 'https', 'x-forwarded-host': req.headers.host ?? '' },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
}

/** Sends an https request trusting only `ca`; answers a fetch Response. */
function httpsFetch(ca: string, url: string, init: { method?: string; headers?: ConstructorParameters<typeof Headers>[0]; body?: unknown }): Promise<Response> {
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((v, k) => (headers[k] = v));
  const body = init.body === undefined || init.body === null ? undefined : Buffer.from(init.body as string | Uint8Array);
  if (body) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: init.method ?? 'GET', headers, ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const responseHeaders = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) responseHeaders.set(k, Array.isArray(v) ? v.join(', ') : v);
        const payload = status === 204 || status === 304 ? null : Buffer.concat(chunks);
        resolve(new Response(payload, { status, statusText: res.statusMessage, headers: responseHeaders }));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * The last link of the SDK's middleware chain, in place of its HTTPMessageHandler: the same
 * request and Response, sent with node:https so the test can trust its own certificate (Node 20's
 * global fetch takes no CA option). Everything before it is the SDK's own.
 */
class TrustingTransport implements Middleware {
  constructor(private readonly ca: string) {}
  async execute(context: Context): Promise<void> {
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    context.response = await httpsFetch(this.ca, url, context.options ?? {});
  }
}

describe('Microsoft Graph JavaScript SDK against a listening Foyer', () => {
  let t: TestApp;
  let proxy: https.Server;
  let origin: string;
  let client: Client;
  let ca: string;

  beforeAll(async () => {
    const tls = selfSignedCertificate();
    ca = tls.cert;
    t = await createTestApp({ baseUrl: null });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const foyerPort = (t.app.server.address() as AddressInfo).port;
    proxy = tlsProxy(tls, () => foyerPort);
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    origin = `https://localhost:${(proxy.address() as AddressInfo).port}`;

    // An API client as `foyer clients create` makes it, and its token over HTTP, form-encoded.
    const clients = createClientsService({ db: t.database.db, clock: t.clock, secret: TEST_SECRET, commandLine: true });
    const { clientId, clientSecret } = await clients.createClient(t.tenant.id, 'graph sdk test', ['User.ReadWrite.All', 'Group.ReadWrite.All']);
    const tokenResponse = await httpsFetch(ca, `${origin}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
        scope: 'https://graph.microsoft.com/.default',
      }).toString(),
    });
    expect(tokenResponse.status).toBe(200);
    const { access_token: token, token_type: tokenType } = (await tokenResponse.json()) as { access_token: string; token_type: string };
    expect(tokenType).toMatch(/^bearer$/i);

    client = Client.initWithMiddleware({
      baseUrl: origin,
      defaultVersion: 'v1.0',
      customHosts: new Set(['localhost']),
      middleware: [
        new AuthenticationHandler(new CustomAuthenticationProvider((done) => done(null, token))),
        new RetryHandler(),
        new TelemetryHandler(),
        new TrustingTransport(ca),
      ],
    });

    await seedDirectory(t.database.db, { tenantId: t.tenant.id, domain: 'contoso.test', users: 300, guestRatio: 0.3, clock: t.clock });
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
    await t?.close();
  });

  it('pages through every user with PageIterator, each id once', async () => {
    const total = Number(await client.api('/users/$count').header('ConsistencyLevel', 'eventual').get());
    expect(total).toBe(301); // 300 seeded and the first Global Administrator

    const first = (await client.api('/users').top(100).select(['id', 'displayName', 'userPrincipalName']).get()) as PageCollection;
    expect(first.value).toHaveLength(100);
    expect(first['@odata.nextLink']).toMatch(new RegExp(`^${origin}/v1\\.0/users\\?.*\\$skiptoken=`));

    const seen: string[] = [];
    let nextLinks = 0;
    const iterator = new PageIterator(client, first, (user: { id: string; displayName: string }) => {
      expect(user.id).toMatch(guidRe);
      expect(typeof user.displayName).toBe('string');
      seen.push(user.id);
      return true;
    });
    let link = first['@odata.nextLink'];
    await iterator.iterate();
    expect(iterator.isComplete()).toBe(true);
    expect(seen).toHaveLength(301);
    expect(new Set(seen).size).toBe(301);

    // The pages were 100, 100, 100 and 1: follow the links by hand to count them.
    while (link) {
      nextLinks++;
      link = ((await client.api(link).get()) as PageCollection)['@odata.nextLink'];
    }
    expect(nextLinks).toBe(3);
  });

  it('stops when the callback says so and resumes with the same iterator', async () => {
    const first = (await client.api('/users').top(50).get()) as PageCollection;
    const seen: string[] = [];
    const iterator = new PageIterator(client, first, (user: { id: string }) => {
      seen.push(user.id);
      return seen.length % 120 !== 0;
    });
    await iterator.iterate();
    expect(seen).toHaveLength(120);
    expect(iterator.isComplete()).toBe(false);
    await iterator.resume();
    await iterator.resume();
    await iterator.resume();
    expect(iterator.isComplete()).toBe(true);
    expect(new Set(seen).size).toBe(301);
  });

  it("filters guests with $filter=userType eq 'Guest'", async () => {
    const expected = await t.database.db.selectFrom('users').select('id').where('user_type', '=', 'Guest').where('deleted_at', 'is', null).execute();
    expect(expected.length).toBeGreaterThan(50);

    const guests: { id: string; userType: string }[] = [];
    const first = (await client.api('/users').filter("userType eq 'Guest'").select('id,userType,mail').top(40).get()) as PageCollection;
    await new PageIterator(client, first, (u: { id: string; userType: string }) => {
      guests.push(u);
      return true;
    }).iterate();
    expect(guests.every((g) => g.userType === 'Guest')).toBe(true);
    expect(guests.map((g) => g.id).sort()).toEqual(expected.map((r) => r.id).sort());

    // Advanced query mode through the SDK's own count() and header().
    const counted = (await client
      .api('/users')
      .header('ConsistencyLevel', 'eventual')
      .count(true)
      .filter("userType ne 'Guest'")
      .top(1)
      .get()) as PageCollection & {
      '@odata.count': number;
    };
    expect(counted['@odata.count']).toBe(301 - expected.length);

    const searched = (await client
      .api('/users')
      .header('ConsistencyLevel', 'eventual')
      .search('"displayName:walter"')
      .select('displayName')
      .top(999)
      .get()) as PageCollection;
    expect(searched.value.length).toBeGreaterThan(0);
    expect(searched.value.every((u: { displayName: string }) => /(^|\s)walter/i.test(u.displayName))).toBe(true);
  });

  it('adds a group member with $ref and removes it', async () => {
    const group = (await client
      .api('/groups')
      .post({ displayName: 'SDK partners', mailNickname: 'sdkpartners', mailEnabled: false, securityEnabled: true })) as {
      id: string;
    };
    expect(group.id).toMatch(guidRe);
    const guest = ((await client.api('/users').filter("userType eq 'Guest'").top(1).get()) as PageCollection).value[0] as { id: string };

    await client.api(`/groups/${group.id}/members/$ref`).post({ '@odata.id': `${origin}/v1.0/directoryObjects/${guest.id}` });
    const members = (await client.api(`/groups/${group.id}/members`).get()) as PageCollection;
    expect(members.value.map((m: { id: string; '@odata.type': string }) => [m.id, m['@odata.type']])).toEqual([[guest.id, '#microsoft.graph.user']]);

    const again = await client
      .api(`/groups/${group.id}/members/$ref`)
      .post({ '@odata.id': `${origin}/v1.0/directoryObjects/${guest.id}` })
      .catch((e: unknown) => e);
    expect(again).toBeInstanceOf(SdkGraphError);
    expect((again as SdkGraphError).statusCode).toBe(400);
    expect((again as SdkGraphError).code).toBe('Request_BadRequest');
    expect((again as SdkGraphError).message).toBe("One or more added object references already exist for the following modified properties: 'members'.");

    await client.api(`/groups/${group.id}/members/${guest.id}/$ref`).delete();
    expect(((await client.api(`/groups/${group.id}/members`).get()) as PageCollection).value).toEqual([]);
  });

  it('deletes a user and restores it through /directory/deletedItems/{id}/restore, memberships included', async () => {
    const group = (await client.api('/groups').post({ displayName: 'SDK restore', mailNickname: 'sdkrestore', mailEnabled: false, securityEnabled: true })) as {
      id: string;
    };
    const user = ((await client.api('/users').filter("userType eq 'Member'").select('id,userPrincipalName').top(2).get()) as PageCollection).value[1] as {
      id: string;
      userPrincipalName: string;
    };
    await client.api(`/groups/${group.id}/members/$ref`).post({ '@odata.id': `${origin}/v1.0/directoryObjects/${user.id}` });

    await client.api(`/users/${user.id}`).delete();
    const gone = await client
      .api(`/users/${user.id}`)
      .get()
      .catch((e: unknown) => e);
    expect((gone as SdkGraphError).statusCode).toBe(404);
    const deleted = (await client.api('/directory/deletedItems/microsoft.graph.user').get()) as PageCollection;
    expect(deleted.value.map((u: { id: string }) => u.id)).toContain(user.id);
    expect(((await client.api(`/groups/${group.id}/members`).get()) as PageCollection).value).toEqual([]);

    const restored = (await client.api(`/directory/deletedItems/${user.id}/restore`).post({})) as { id: string; userPrincipalName: string };
    expect(restored.id).toBe(user.id);
    expect(restored.userPrincipalName).toBe(user.userPrincipalName);
    const back = (await client.api(`/users/${user.id}`).select('id,userPrincipalName').get()) as { id: string };
    expect(back.id).toBe(user.id);
    const members = (await client.api(`/groups/${group.id}/members`).get()) as PageCollection;
    expect(members.value.map((m: { id: string }) => m.id)).toEqual([user.id]);
    expect(Number(await client.api('/users/$count').header('ConsistencyLevel', 'eventual').get())).toBe(301);
  });

  it('throws a GraphError with statusCode 404 and code Request_ResourceNotFound for an unknown id', async () => {
    const unknown = '0f0f0f0f-0000-4000-8000-000000000404';
    const error = await client
      .api(`/users/${unknown}`)
      .get()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SdkGraphError);
    const e = error as SdkGraphError;
    expect(e.statusCode).toBe(404);
    expect(e.code).toBe('Request_ResourceNotFound');
    expect(e.message).toBe(`Resource '${unknown}' does not exist or one of its queried reference-property objects are not present.`);
    expect(e.requestId).toMatch(guidRe);

    const group = await client
      .api(`/groups/${unknown}/members/$ref`)
      .post({ '@odata.id': `${origin}/v1.0/directoryObjects/${unknown}` })
      .catch((x: unknown) => x);
    expect((group as SdkGraphError).statusCode).toBe(404);
    expect((group as SdkGraphError).code).toBe('Request_ResourceNotFound');
  });

  it('surfaces Graph query errors the way Graph does', async () => {
    const unsupported = await client
      .api('/users')
      .filter("endsWith(mail, '@fabrikam.test')")
      .get()
      .catch((e: unknown) => e);
    expect((unsupported as SdkGraphError).statusCode).toBe(400);
    expect((unsupported as SdkGraphError).code).toBe('Request_UnsupportedQuery');

    const badFilter = await client
      .api('/users')
      .filter("displayName eq 'unterminated")
      .get()
      .catch((e: unknown) => e);
    expect((badFilter as SdkGraphError).statusCode).toBe(400);
    expect((badFilter as SdkGraphError).code).toBe('Request_BadRequest');
    expect((badFilter as SdkGraphError).message).toContain('unterminated string literal');
  });
});
