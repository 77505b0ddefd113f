import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { call, createTestApp, outboxFor, runJobs, testEngine, type TestApp } from './helpers/test-app.js';

/**
 * Whose address a request comes from, and which host the links Foyer writes point at: taken from
 * X-Forwarded-* only when FOYER_TRUST_PROXY says the peer is a proxy of ours.
 */
describe(`client addresses and public links (${testEngine})`, () => {
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const t of apps) await t.close();
  });
  const app = async (options: Parameters<typeof createTestApp>[0]) => {
    const t = await createTestApp(options);
    apps.push(t);
    return t;
  };

  /** Posts the sign-in form with a new address each time; answers the status of every post. */
  async function signInPosts(t: TestApp, count: number, forwardedFor: (i: number) => string): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/signin',
        payload: new URLSearchParams({ email: `probe${i}@fabrikam.test` }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forwardedFor(i), origin: 'http://foyer.test' },
      });
      statuses.push(res.statusCode);
    }
    return statuses;
  }

  describe('the per-address limits', () => {
    let untrustedLimit: number;

    beforeAll(async () => {
      // Without a trusted proxy, rotating X-Forwarded-For is one client: the code limit per address is met.
      const statuses = await signInPosts(await app({ trustProxy: false }), 200, (i) => `198.51.100.${i % 250}`);
      untrustedLimit = statuses.indexOf(429);
    });

    it('count the connecting address when no proxy is trusted, whatever X-Forwarded-For says', () => {
      expect(untrustedLimit).toBeGreaterThan(0);
    });

    it('count the forwarded address when the proxy is trusted by hop count', async () => {
      // One trusted hop: the address the proxy appended (the last one) is the client; what the client wrote before it is not.
      const statuses = await signInPosts(await app({ trustProxy: 1 }), untrustedLimit + 5, (i) => `203.0.113.7, 198.51.100.${i}`);
      expect(statuses).not.toContain(429);
      const spoofed = await signInPosts(await app({ trustProxy: 1 }), untrustedLimit + 1, (i) => `198.51.100.${i}, 203.0.113.7`);
      expect(spoofed).toContain(429);
    });

    it('count the forwarded address when the proxy is trusted by address, and not when another address is', async () => {
      expect(await signInPosts(await app({ trustProxy: ['127.0.0.1'] }), untrustedLimit + 5, (i) => `198.51.100.${i}`)).not.toContain(429);
      expect(await signInPosts(await app({ trustProxy: ['10.0.0.0/8'] }), untrustedLimit + 1, (i) => `198.51.100.${i}`)).toContain(429);
    });
  });

  describe('links in emails and answers', () => {
    const invite = (t: TestApp, token: string, headers: Record<string, string>) =>
      call(
        t,
        { token },
        {
          method: 'POST',
          url: '/v1.0/invitations',
          headers,
          payload: {
            invitedUserEmailAddress: `g${Math.random().toString(36).slice(2, 8)}@fabrikam.test`,
            inviteRedirectUrl: 'https://apps.contoso.test/',
            sendInvitationMessage: true,
          },
        },
      );

    it('follow the request’s own Host, never X-Forwarded-Host, when no base URL is set and no proxy is trusted', async () => {
      const t = await app({ baseUrl: null, trustProxy: false });
      const token = await t.clientToken(['User.Invite.All', 'Directory.ReadWrite.All']);
      const res = await invite(t, token, { host: 'foyer.example:8443', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' });
      expect(res.statusCode, res.body).toBe(201);
      const { inviteRedeemUrl, invitedUserEmailAddress } = res.json() as { inviteRedeemUrl: string; invitedUserEmailAddress: string };
      expect(inviteRedeemUrl).toMatch(/^http:\/\/foyer\.example:8443\/redeem\?t=/);
      await runJobs(t);
      const [mail] = await outboxFor(t, invitedUserEmailAddress);
      expect(mail!.text).toContain('http://foyer.example:8443/redeem?t=');
      expect(`${mail!.text}${mail!.html}`).not.toContain('evil.example');

      const discovery = await t.app.inject({
        method: 'GET',
        url: '/.well-known/openid-configuration',
        headers: { host: 'foyer.example:8443', 'x-forwarded-host': 'evil.example' },
      });
      expect(discovery.json().issuer).toBe('http://foyer.example:8443');
    });

    it('follow FOYER_BASE_URL when it is set, even behind a trusted proxy', async () => {
      const t = await app({ baseUrl: 'https://guests.contoso.test', trustProxy: true });
      const token = await t.clientToken(['User.Invite.All']);
      const res = await invite(t, token, { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' });
      expect(res.json().inviteRedeemUrl).toMatch(/^https:\/\/guests\.contoso\.test\/redeem\?t=/);
    });

    it('follow the forwarded host and scheme of a trusted proxy when no base URL is set', async () => {
      const t = await app({ baseUrl: null, trustProxy: ['127.0.0.1'] });
      const token = await t.clientToken(['User.Invite.All']);
      const res = await invite(t, token, { 'x-forwarded-host': 'guests.contoso.test', 'x-forwarded-proto': 'https' });
      expect(res.json().inviteRedeemUrl).toMatch(/^https:\/\/guests\.contoso\.test\/redeem\?t=/);
    });

    it('refuse a Host header that is not a host name', async () => {
      const t = await app({ baseUrl: null, trustProxy: false });
      const token = await t.clientToken(['User.Invite.All']);
      const res = await invite(t, token, { host: 'evil.example/"><a href=x' });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error.code).toBe('Request_BadRequest');
    });
  });
});

describe('FOYER_TRUST_PROXY and FOYER_BASE_URL', () => {
  const base = { FOYER_SECRET: 'x'.repeat(32), FOYER_DATA_DIR: '/nonexistent' };
  const trust = (value: string | undefined) => loadConfig({ ...base, FOYER_TRUST_PROXY: value }).trustProxy;
  const problemsOf = (env: NodeJS.ProcessEnv) => {
    try {
      loadConfig({ ...base, ...env });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
    return [];
  };

  it('trusts no proxy unless told', () => {
    expect(trust(undefined)).toBe(false);
    expect(trust('')).toBe(false);
    expect(trust('false')).toBe(false);
    expect(trust('0')).toBe(false);
  });

  it('takes a hop count, true, or a list of addresses and networks', () => {
    expect(trust('1')).toBe(1);
    expect(trust('3')).toBe(3);
    expect(trust('true')).toBe(true);
    expect(trust('10.0.0.1')).toEqual(['10.0.0.1']);
    expect(trust(' 10.0.0.0/8, 192.168.1.1 ,::1, fd00::/8, loopback ')).toEqual(['10.0.0.0/8', '192.168.1.1', '::1', 'fd00::/8', 'loopback']);
  });

  it('reports a value it cannot read with the other problems', () => {
    for (const bad of ['yes', '-1', '1.5', '10.0.0.0/33', '300.1.1.1', 'proxy.internal', '10.0.0.1,,10.0.0.2', '::1/129']) {
      const problems = problemsOf({ FOYER_TRUST_PROXY: bad, PORT: 'eighty' });
      expect(
        problems.some((p) => p.startsWith('FOYER_TRUST_PROXY') && p.includes(bad)),
        `${bad}: ${problems.join('; ')}`,
      ).toBe(true);
      expect(problems.some((p) => p.startsWith('PORT'))).toBe(true);
    }
  });

  it('requires FOYER_BASE_URL in production', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toContain(
      'FOYER_BASE_URL is required when NODE_ENV=production (the public URL that links in emails point to)',
    );
    expect(problemsOf({ NODE_ENV: 'production', FOYER_BASE_URL: 'https://guests.contoso.test' })).toEqual([]);
  });
});
