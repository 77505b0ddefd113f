import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { settled } from './helpers/motion.js';
import { E2E_TIMEOUT, launchBrowser, newContext, seriousViolations, signIn, startServer, type E2eServer } from './helpers/server.js';
import { call, testEngine, type Session } from '../test/helpers/test-app.js';

describe(`admin center: Teams guest access settings (${testEngine})`, { timeout: E2E_TIMEOUT }, () => {
  let server: E2eServer;
  let browser: Browser;
  let session: Session;
  let teamId: string;
  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser()]);
    session = await server.t.signIn('admin@contoso.test', server.t.admin.password);
    const res = await call(server.t, { session }, { method: 'POST', url: '/v1.0/teams', payload: { displayName: 'Project Heron' } });
    if (res.statusCode !== 202) throw new Error(res.body);
    teamId = (res.json() as { id: string }).id;
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const get = async (url: string) => (await call(server.t, { session }, { method: 'GET', url })).json() as Record<string, unknown>;
  const addByEmail = (email: string) => call(server.t, { session }, { method: 'POST', url: `/v1.0/teams/${teamId}/members`, payload: { email } });
  // Fluent repeats a toast's text in a live region for screen readers; the toast itself is the one seen.
  const toast = (page: Page, text: string) => page.locator('.fui-ToastTitle').filter({ hasText: text }).first();
  /** The texts a field's input is described by: its hint and, when the API refused it, the reason. */
  const descriptionOf = (input: Locator) =>
    input.evaluate((el) =>
      (el.getAttribute('aria-describedby') ?? '')
        .split(/\s+/)
        .filter(Boolean)
        .map((id) => document.getElementById(id)?.textContent ?? '')
        .join(' | '),
    );

  it('an administrator turns guest access in Teams off and on, and an invalid number of days is refused next to its field', async () => {
    const context = await newContext(browser, server);
    const page = await context.newPage();
    await signIn(page);
    await page.getByRole('link', { name: 'Teams guest access' }).click();
    await page.getByRole('heading', { level: 1, name: 'Teams guest access' }).waitFor();
    const teamsAccess = page.getByRole('switch', { name: 'Allow guest access in Teams' });
    expect(await teamsAccess.isChecked()).toBe(true);
    expect(await page.getByRole('radio', { name: 'New and existing guests' }).isChecked()).toBe(true);
    expect(await page.getByRole('spinbutton', { name: /Anyone links expire after/ }).inputValue()).toBe('30');
    expect(await page.getByRole('switch', { name: 'Guest access to sites expires' }).isChecked()).toBe(false);
    await settled(page);
    expect(await seriousViolations(page)).toEqual([]);

    await teamsAccess.click();
    await page.getByRole('button', { name: 'Save' }).click();
    await toast(page, 'Saved').waitFor();
    expect((await get('/v1.0/foyer/settings/collaboration')).allowGuestAccessInTeams).toBe(false);
    const refused = await addByEmail('ola.berg@outside.test');
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.message).toMatch(/Guest access in Teams is turned off/);

    await teamsAccess.click();
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(async () => (await get('/v1.0/foyer/settings/collaboration')).allowGuestAccessInTeams).toBe(true);
    expect((await addByEmail('ola.berg@outside.test')).statusCode).toBe(201);

    const anyoneDays = page.getByRole('spinbutton', { name: /Anyone links expire after/ });
    await anyoneDays.fill('731');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => anyoneDays.getAttribute('aria-invalid')).toBe('true');
    expect(await descriptionOf(anyoneDays)).toMatch(/anyoneLinkExpirationDays.*730/);
    expect((await get('/v1.0/foyer/settings/collaboration')).anyoneLinkExpirationDays).toBe(30);
    await settled(page);
    expect(await seriousViolations(page)).toEqual([]);

    await anyoneDays.fill('45');
    await page.getByRole('switch', { name: 'Guest access to sites expires' }).click();
    await page.getByRole('spinbutton', { name: /Guest access expires after/ }).fill('90');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(async () => (await get('/v1.0/foyer/settings/collaboration')).anyoneLinkExpirationDays).toBe(45);
    expect((await get('/v1.0/foyer/settings/collaboration')).guestAccessExpirationDays).toBe(90);
    expect(await anyoneDays.getAttribute('aria-invalid')).not.toBe('true');
    await context.close();
  });

  it('the page in Dutch', async () => {
    const context = await newContext(browser, server, 'nl-NL');
    const page = await context.newPage();
    await signIn(page);
    await page.getByRole('link', { name: 'Gasttoegang in Teams' }).click();
    await page.getByRole('heading', { level: 1, name: 'Gasttoegang in Teams' }).waitFor();
    await page.getByRole('switch', { name: 'Gasttoegang in Teams toestaan' }).waitFor();
    await page.getByRole('radio', { name: 'Alleen bestaande gasten' }).waitFor();
    await settled(page);
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });

  it('an administrator switches a team’s allowToAddGuests off in the Teams & sites panel', async () => {
    const context = await newContext(browser, server);
    const page = await context.newPage();
    await signIn(page);
    await page.getByRole('link', { name: 'Teams & sites' }).click();
    await page
      .getByRole('row', { name: /Project Heron/ })
      .getByRole('button', { name: 'Project Heron' })
      .click();
    const panel = page.getByRole('dialog', { name: 'Project Heron' });
    const addGuests = panel.getByRole('switch', { name: 'Guests can be added to this team' });
    await addGuests.waitFor();
    expect(await addGuests.isChecked()).toBe(true);
    expect(await panel.getByRole('switch', { name: 'Guests can create and update channels' }).isChecked()).toBe(false);

    await addGuests.click();
    await panel.getByRole('button', { name: 'Save' }).click();
    await toast(page, 'The team’s guest settings were saved.').waitFor();
    const team = await get(`/v1.0/teams/${teamId}`);
    expect(team.allowToAddGuests).toBe(false);
    expect(team.guestSettings).toMatchObject({ allowCreateUpdateChannels: false });
    const refused = await addByEmail('ana.ruiz@outside.test');
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.message).toMatch(/allowToAddGuests is false/);
    await settled(page);
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });
});
