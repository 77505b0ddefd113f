import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { settled } from './helpers/motion.js';
import { E2E_TIMEOUT, launchBrowser, newContext, seriousViolations, signIn, startServer, type E2eServer } from './helpers/server.js';
import { call, testEngine } from '../test/helpers/test-app.js';

describe(`admin center: Teams & sites (${testEngine})`, { timeout: E2E_TIMEOUT }, () => {
  let server: E2eServer;
  let browser: Browser;
  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser()]);
    const session = await server.t.signIn('admin@contoso.test', server.t.admin.password);
    const res = await call(
      server.t,
      { session },
      { method: 'POST', url: '/v1.0/teams', payload: { displayName: 'Project Falcon', description: 'Launch team' } },
    );
    if (res.statusCode !== 202) throw new Error(res.body);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('an administrator sees a team, adds an outside email (a guest with source Teams), and finds the team in the guest’s details', async () => {
    const context = await newContext(browser, server);
    const page = await context.newPage();
    await signIn(page);
    await page.getByRole('link', { name: 'Teams & sites' }).click();
    const row = page.getByRole('row', { name: /Project Falcon/ });
    await row.waitFor();
    expect(await row.textContent()).toMatch(/Project FalconTeamNew and existing guests/);
    await settled(page);
    expect(await seriousViolations(page)).toEqual([]);

    await row.getByRole('button', { name: 'Project Falcon' }).click();
    const panel = page.getByRole('dialog', { name: 'Project Falcon' });
    await panel.getByRole('row', { name: /Administrator/ }).waitFor();
    expect(await panel.getByRole('row', { name: /Administrator/ }).textContent()).toContain('Owner');
    await panel.getByRole('textbox', { name: /Add a person by email/ }).fill('kim.lee@outside.test');
    await panel.getByRole('button', { name: 'Add', exact: true }).click();
    const guestRow = panel.getByRole('row', { name: /kim\.lee@outside\.test/ });
    await guestRow.waitFor();
    expect(await guestRow.textContent()).toContain('Guest');
    await panel.getByText('2 members, 1 guests').waitFor();
    await settled(page);
    expect(await seriousViolations(page)).toEqual([]);
    await panel.getByRole('button', { name: 'Close' }).click();

    await page.getByRole('link', { name: 'Guest users' }).click();
    const listed = page.getByRole('row', { name: /kim\.lee@outside\.test/ });
    await expect.poll(() => listed.textContent()).toMatch(/Teams/);
    await listed.getByRole('button').first().click();
    const details = page.getByRole('dialog');
    await details.getByRole('tab', { name: 'Teams and sites' }).click();
    const access = details.getByRole('row', { name: /Project Falcon/ });
    await access.waitFor();
    expect(await access.textContent()).toMatch(/Project FalconTeamTeam membershipGuest/);
    await settled(page);
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });
});
