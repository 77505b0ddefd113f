import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createMember, createTestApp, type TestApp } from './helpers/test-app.js';

describe(`directory smoke`, () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await createTestApp();
    token = await t.clientToken(['User.ReadWrite.All', 'Group.ReadWrite.All']);
  });
  afterAll(() => t.close());

  it('creates, lists and pages users', async () => {
    for (let i = 0; i < 5; i++) await createMember(t, { token }, `Walter Number${i}`);
    const first = await call(t, { token }, { method: 'GET', url: '/v1.0/users?$top=2' });
    expect(first.statusCode).toBe(200);
    const body = first.json();
    expect(body.value).toHaveLength(2);
    expect(body['@odata.nextLink']).toContain('$skiptoken=');
    const seen = new Set(body.value.map((u: { id: string }) => u.id));
    let next = body['@odata.nextLink'] as string | undefined;
    while (next) {
      const res = await call(t, { token }, { method: 'GET', url: next.replace('http://foyer.test', '') });
      expect(res.statusCode).toBe(200);
      for (const u of res.json().value) seen.add(u.id);
      next = res.json()['@odata.nextLink'];
    }
    expect(seen.size).toBe(6);
    const search = await call(t, { token }, { method: 'GET', url: `/v1.0/users?$search="displayName:wal"`, headers: { consistencylevel: 'eventual' } });
    expect(search.statusCode).toBe(200);
    expect(search.json().value).toHaveLength(5);
  });
});
