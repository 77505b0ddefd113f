import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { SESSION_COOKIE } from '../src/auth/auth.service.js';
import { MEMBER_PASSWORD, call, createGuest, createMember, createTestApp, type Session, type TestApp } from './helpers/test-app.js';

const CHROMIUM = '/usr/bin/chromium';

/** A guest's view of a team in a real browser: live chat between two browsers, files, the meeting page; English and Dutch. */
describe.skipIf(!existsSync(CHROMIUM))('teams in the browser', () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let owner: { session: Session };
  let guest: { session: Session };
  let teamId: string;
  let meetingId: string;

  beforeAll(async () => {
    t = await createTestApp({ baseUrl: null });
    const admin = { session: await t.signIn(t.admin.userPrincipalName, t.admin.password) };
    await createMember(t, admin, 'Olga Owner');
    owner = { session: await t.signIn('olgaowner@contoso.test', MEMBER_PASSWORD) };
    const guestId = await createGuest(t, admin, 'gus@partner.test', 'Gus Guest');
    guest = { session: await t.signIn('gus_partner.test#EXT#@contoso.test', MEMBER_PASSWORD) };
    teamId = (await call(t, owner, { method: 'POST', url: '/v1.0/teams', payload: { displayName: 'Alpha' } })).json().id;
    await call(t, owner, { method: 'POST', url: `/v1.0/teams/${teamId}/members`, payload: { 'user@odata.bind': `users('${guestId}')` } });
    const drive = (await call(t, owner, { method: 'GET', url: `/v1.0/groups/${teamId}/drive` })).json();
    await call(t, owner, {
      method: 'PUT',
      url: `/v1.0/drives/${drive.id}/root:/agenda.pdf:/content`,
      payload: Buffer.from('%PDF-1.4'),
      headers: { 'content-type': 'application/pdf' },
    });
    meetingId = (
      await call(t, owner, {
        method: 'POST',
        url: '/v1.0/me/onlineMeetings',
        payload: { subject: 'Weekly', startDateTime: '2026-11-02T10:00:00Z', endDateTime: '2026-11-02T11:00:00Z', agenda: 'Status <b>round</b>', teamId },
      })
    ).json().id;
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t.close();
  });

  async function contextAs(s: Session) {
    const context = await browser.newContext();
    await context.addCookies([{ name: SESSION_COOKIE, value: s.cookie, url: base, httpOnly: true, sameSite: 'Lax' }]);
    return context;
  }

  for (const lang of ['en', 'nl'] as const)
    it(`chat updates live between two browsers, files and the meeting page (${lang})`, async () => {
      const g = await (await contextAs(guest.session)).newPage();
      const o = await (await contextAs(owner.session)).newPage();
      const errors: string[] = [];
      // The browser asks for /favicon.ico, which Foyer does not have.
      g.on('console', (m) => m.type() === 'error' && !m.location().url.endsWith('/favicon.ico') && errors.push(m.text()));
      const q = lang === 'nl' ? '?lang=nl' : '';
      await g.goto(`${base}/teams/${teamId}${q}`);
      await o.goto(`${base}/teams/${teamId}${q}`);
      expect(g.getByRole('heading', { name: 'Alpha' })).toBeTruthy();
      await g.getByLabel(lang === 'nl' ? 'Nieuw bericht' : 'New message').fill(`hello from guest ${lang} <img src=x onerror=alert(1)>`);
      await g.getByRole('button', { name: lang === 'nl' ? 'Verzenden' : 'Send' }).click();
      // The owner's page gets it over the live stream, as text.
      await o.getByText(`hello from guest ${lang} <img src=x onerror=alert(1)>`).waitFor({ timeout: 10_000 });
      expect(await o.locator('#messages img').count()).toBe(0);
      await o.getByLabel(lang === 'nl' ? 'Nieuw bericht' : 'New message').fill(`answer ${lang} https://example.test/doc`);
      await o.getByRole('button', { name: lang === 'nl' ? 'Verzenden' : 'Send' }).click();
      await g.getByRole('link', { name: 'https://example.test/doc' }).last().waitFor({ timeout: 10_000 });

      await g.getByRole('link', { name: lang === 'nl' ? 'Bestanden van het team openen' : 'Open the team’s files' }).click();
      await g.getByRole('cell', { name: 'agenda.pdf' }).waitFor();
      expect(await g.getByRole('link', { name: lang === 'nl' ? 'Voorbeeld' : 'Preview' }).count()).toBe(1);

      await g.goto(`${base}/meet/${meetingId}${q}`);
      await g.getByText('Status <b>round</b>').waitFor();
      await g.getByRole('button', { name: lang === 'nl' ? 'Deelnemen' : 'Join meeting' }).click();
      await g.locator('#presence').getByText('Gus Guest').waitFor();
      await g.getByRole('button', { name: lang === 'nl' ? 'Vergadering verlaten' : 'Leave meeting' }).click();
      await g.getByRole('button', { name: lang === 'nl' ? 'Deelnemen' : 'Join meeting' }).waitFor();
      expect(errors).toEqual([]);
      await g.context().close();
      await o.context().close();
    }, 60_000);
});
