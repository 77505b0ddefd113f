/// <reference lib="dom" />
// Callbacks given to page.evaluate run in the browser.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { settled } from './helpers/motion.js';
import { E2E_TIMEOUT, launchBrowser, newContext, seriousViolations, signIn, startServer, type E2eServer } from './helpers/server.js';
import { call, testEngine } from '../test/helpers/test-app.js';

const byAdmin = [
  ['Bram Jansen', 'bram@fabrikam.test'],
  ['Carla Smit', 'carla@fabrikam.test'],
  ['Daan Bakker', 'daan@northwind.test'],
];
const byApi = [
  ['Eva Visser', 'eva@northwind.test'],
  ['Finn de Boer', 'finn@fabrikam.test'],
  ['Gijs Mulder', 'gijs@tailspin.test'],
];

/** Names in the guest table, top to bottom. */
const rowNames = (page: Page) => page.locator('tbody tr[data-id] td:nth-child(2)').allTextContents();

/** A request URL as a person reads it (`+` and percent-escapes decoded). */
const readable = (url: string) => decodeURIComponent(url.replace(/\+/g, ' '));

/** The next users list the page asks the server for (with `part` in its decoded URL), and what it answered. */
async function nextList(page: Page, part: string, action: () => Promise<unknown>): Promise<{ url: string; names: string[] }> {
  const [response] = await Promise.all([
    page.waitForResponse((r: Response) => r.url().includes('/v1.0/users?') && readable(r.url()).includes(part) && r.status() === 200),
    action(),
  ]);
  const body = (await response.json()) as { value: { displayName: string }[] };
  return { url: readable(response.url()), names: body.value.map((u) => u.displayName) };
}

describe(`admin center: the Guest users list against the server (${testEngine})`, { timeout: E2E_TIMEOUT }, () => {
  let server: E2eServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser()]);
    // Seeded through the API, as other tools would: the administrator's invitations are source Directory, a client's are API.
    const session = await server.t.signIn('admin@contoso.test', server.t.admin.password);
    const token = await server.t.clientToken(['User.Invite.All']);
    const invite = async (caller: Parameters<typeof call>[1], [name, email]: string[]) => {
      const res = await call(server.t, caller, {
        method: 'POST',
        url: '/v1.0/invitations',
        payload: { invitedUserEmailAddress: email, invitedUserDisplayName: name, inviteRedirectUrl: `${server.url}/my` },
      });
      if (res.statusCode !== 201) throw new Error(res.body);
    };
    for (const g of byAdmin) await invite({ session }, g);
    for (const g of byApi) await invite({ token }, g);
    context = await newContext(browser, server);
    page = await context.newPage();
    await signIn(page, undefined, undefined, '/users/guests');
    await page.getByRole('heading', { name: 'Guest users' }).waitFor();
    await page.getByText('6 guests').waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('lists guests sorted by name with their source, inviter and state', async () => {
    expect(await rowNames(page)).toEqual(['Bram Jansen', 'Carla Smit', 'Daan Bakker', 'Eva Visser', 'Finn de Boer', 'Gijs Mulder']);
    const bram = (await page.getByRole('row', { name: /Bram Jansen/ }).textContent()) ?? '';
    expect(bram).toContain('DirectoryAdministrator');
    expect(bram).toContain('Pending');
    expect(await page.getByRole('row', { name: /Eva Visser/ }).textContent()).toContain('API');
  });

  it('search, filters and sorting change what the server returns', async () => {
    const search = page.getByRole('searchbox', { name: 'Search guests by name or email' });
    // An address or domain searches email addresses; anything else display names.
    const searched = await nextList(page, '$search', () => search.fill('@fabri'));
    expect(searched.url).toContain('$search="mail:fabri"');
    expect(searched.names.sort()).toEqual(['Bram Jansen', 'Carla Smit', 'Finn de Boer']);
    await page.getByText('3 guests').waitFor();
    expect((await rowNames(page)).sort()).toEqual(['Bram Jansen', 'Carla Smit', 'Finn de Boer']);
    const byName = await nextList(page, '"displayName:de b"', () => search.fill('de b'));
    expect(byName.names).toEqual(['Finn de Boer']);
    await page.getByText('1 guest', { exact: true }).waitFor();
    await search.fill('');
    await page.getByText('6 guests').waitFor();

    const bySource = await nextList(page, "foyerSource eq 'api'", async () => {
      await page.getByRole('combobox', { name: 'Source' }).click();
      await page.getByRole('option', { name: 'API' }).click();
    });
    expect(bySource.names).toEqual(['Eva Visser', 'Finn de Boer', 'Gijs Mulder']);
    await page.getByText('3 guests').waitFor();

    const byDomain = await nextList(page, "endsWith(mail,'@northwind.test')", () => page.getByRole('textbox', { name: 'Email domain' }).fill('northwind.test'));
    expect(byDomain.names).toEqual(['Eva Visser']);
    await page.getByText('1 guest', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByText('6 guests').waitFor();

    // The sortable header is a button inside the column header, as in Fluent's DataGrid.
    const nameHeader = page.getByRole('button', { name: 'Display name' });
    const sorted = await nextList(page, '$orderby=displayName desc', () => nameHeader.click());
    expect(sorted.names[0]).toBe('Gijs Mulder');
    await expect.poll(() => rowNames(page)).toEqual(['Gijs Mulder', 'Finn de Boer', 'Eva Visser', 'Daan Bakker', 'Carla Smit', 'Bram Jansen']);
    expect(await page.locator('th', { has: nameHeader }).getAttribute('aria-sort')).toBe('descending');
    await nameHeader.click();
    await expect.poll(async () => (await rowNames(page))[0]).toBe('Bram Jansen');
  });

  it('exports a CSV, streamed by the server, of exactly the guests that match', async () => {
    await page.getByRole('textbox', { name: 'Email domain' }).fill('fabrikam.test');
    await page.getByText('3 guests').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^guests-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8').replace(/^\ufeff/, '');
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe('Display name,Email,User principal name,Invitation state,Source,Invited by,Created,Last sign-in,Sign-in allowed,Object id');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['Bram Jansen', 'Carla Smit', 'Finn de Boer']);
    expect(lines[1]).toContain('bram@fabrikam.test,bram_fabrikam.test#EXT#@contoso.test,PendingAcceptance,directory,Administrator');
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByText('6 guests').waitFor();
  });

  it('deletes two guests after a confirmation, finds them in Deleted users and restores one', async () => {
    await page.getByRole('checkbox', { name: 'Select Bram Jansen' }).check();
    await page.getByRole('checkbox', { name: 'Select Daan Bakker' }).check();
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    const dialog = page.getByRole('alertdialog');
    await dialog.getByRole('heading', { name: 'Delete 2 guests?' }).waitFor();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('4 guests').waitFor();
    expect(await rowNames(page)).toEqual(['Carla Smit', 'Eva Visser', 'Finn de Boer', 'Gijs Mulder']);

    await page.getByRole('link', { name: 'Deleted users' }).click();
    await page.getByRole('heading', { name: 'Deleted users' }).waitFor();
    await page.getByRole('row', { name: /Bram Jansen/ }).waitFor();
    expect((await rowNames(page)).sort()).toEqual(['Bram Jansen', 'Daan Bakker']);
    // Days left count from the server's deletion time (this test server's clock stands still) to the browser's now.
    const daysLeft = Number(/(\d+) days?$/.exec((await page.getByRole('row', { name: /Daan Bakker/ }).textContent()) ?? '')?.[1]);
    expect(daysLeft).toBeGreaterThanOrEqual(0);
    expect(daysLeft).toBeLessThanOrEqual(30);
    await page.getByRole('checkbox', { name: 'Select Daan Bakker' }).check();
    await page.getByRole('button', { name: 'Restore' }).click();
    // Fluent repeats a toast's text in its live region for screen readers.
    await page.getByText('1 user restored').first().waitFor();
    await expect.poll(() => rowNames(page)).toEqual(['Bram Jansen']);

    await page.getByRole('link', { name: 'Guest users' }).click();
    await page.getByText('5 guests').waitFor();
    expect(await rowNames(page)).toContain('Daan Bakker');
  });

  it('every page is keyboard-reachable and has no serious or critical axe-core violations', async () => {
    const check = async (what: string) => {
      // Panels slide and fade in, toasts fade out; axe must see the page as it settles, not half transparent.
      await page.waitForFunction(() => !document.querySelector('.fui-Toast'), undefined, { timeout: 10_000 });
      // A spinner removed meanwhile cancels its animation (settled tolerates that; waiting for every `finished` did not).
      await settled(page);
      expect({ what, violations: await seriousViolations(page) }).toEqual({ what, violations: [] });
    };
    const visit = async (link: string, heading: string) => {
      await page.getByRole('link', { name: link, exact: true }).click();
      await page.getByRole('heading', { level: 1, name: heading }).waitFor();
      await page.waitForLoadState('networkidle');
    };
    await visit('Home', 'Home');
    await check('home');
    await visit('Guest users', 'Guest users');
    await check('guest users');
    // The invite panel, opened and closed with the keyboard.
    await page.getByRole('button', { name: 'Invite a guest' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('textbox', { name: /^Email address/ }).waitFor();
    await check('invite panel');
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Carla Smit' }).click();
    await page.getByRole('tab', { name: 'Invitations' }).waitFor();
    await check('guest details');
    await page.getByRole('tab', { name: 'Invitations' }).click();
    await page.getByRole('table', { name: 'Invitations' }).waitFor();
    await check('guest details: invitations');
    await page.keyboard.press('Escape');
    await visit('Active users', 'Active users');
    await check('active users');
    await visit('Deleted users', 'Deleted users');
    await check('deleted users');
    await visit('Groups', 'Groups');
    await check('groups');
    await visit('Audit log', 'Audit log');
    await page.getByRole('row').nth(1).waitFor();
    await check('audit log');
    await page.locator('tbody tr[data-id] button').first().click();
    await page.getByRole('dialog').waitFor();
    await check('audit details');
    await page.keyboard.press('Escape');
    await visit('External collaboration', 'External collaboration settings');
    await check('settings');
    await visit('Mail outbox', 'Mail outbox');
    await check('outbox');

    // A skip link first, then the navigation, as keyboard users expect.
    await page.goto('/users/guests');
    await page.getByRole('heading', { name: 'Guest users' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');

    // The guests' own pages, server-rendered.
    const anonymous = await newContext(browser, server);
    const guestPage = await anonymous.newPage();
    await guestPage.goto('/signin');
    expect(await seriousViolations(guestPage)).toEqual([]);
    await guestPage.goto('/login');
    await guestPage.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await seriousViolations(guestPage)).toEqual([]);
    await anonymous.close();
  });

  it('an ended session sends the person back to sign-in, and on to the page they were on', async () => {
    await page.goto('/users/deleted');
    await page.getByRole('heading', { name: 'Deleted users' }).waitFor();
    await context.clearCookies();
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByText('Your session has ended. Sign in again to continue.').waitFor();
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.getByLabel('Email or user name').fill('admin@contoso.test');
    await page.getByLabel('Password').fill(server.t.admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Deleted users' }).waitFor();
  });
});
