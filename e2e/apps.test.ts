import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { settled } from './helpers/motion.js';
import { E2E_TIMEOUT, launchBrowser, newContext, seriousViolations, signIn, startServer, type E2eServer } from './helpers/server.js';
import { call, testEngine } from '../test/helpers/test-app.js';

describe(`admin center: Apps (${testEngine})`, { timeout: E2E_TIMEOUT }, () => {
  let server: E2eServer;
  let browser: Browser;
  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser()]);
    const session = await server.t.signIn('admin@contoso.test', server.t.admin.password);
    const res = await call(
      server.t,
      { session },
      {
        method: 'POST',
        url: '/v1.0/foyer/invitations',
        payload: { invitedUserEmailAddress: 'ana.vries@fabrikam.test', invitedUserDisplayName: 'Ana de Vries', inviteRedirectUrl: `${server.url}/my` },
      },
    );
    if (res.statusCode !== 201) throw new Error(res.body);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('an administrator registers an app, sees its secret once, requires assignment, assigns a guest, and removes the app from the guest’s details', async () => {
    const context = await newContext(browser, server);
    const page = await context.newPage();
    await signIn(page);
    await page.getByRole('link', { name: 'Apps' }).click();
    await page.getByText('No applications yet.').waitFor();
    await settled(page);
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole('button', { name: 'Register an application' }).click();
    await page.getByRole('textbox', { name: /^Name/ }).fill('Partner portal');
    await page.getByRole('textbox', { name: 'Redirect URIs' }).fill('https://portal.contoso.test/signin-oidc');
    await page.getByRole('textbox', { name: 'Homepage URL' }).fill('https://portal.contoso.test/');
    await page.getByRole('textbox', { name: 'Logo URL' }).fill('https://portal.contoso.test/logo.png');
    await settled(page);
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Register', exact: true }).click();

    const panel = page.getByRole('dialog', { name: 'Partner portal' });
    await panel.getByText(/^Application \(client\) ID: [0-9a-f-]{36}$/).waitFor();
    const appId = ((await panel.getByText(/^Application \(client\) ID/).textContent()) ?? '').split(': ')[1]!;

    // The secret is shown once, and only its first characters afterwards.
    await panel.getByRole('tab', { name: 'Client secrets' }).click();
    await panel.getByRole('textbox', { name: 'Description' }).fill('prod');
    await panel.getByRole('button', { name: 'New client secret' }).click();
    await panel.getByText('Copy the secret now: it is shown only this once.').waitFor();
    const secret = await panel.getByRole('textbox', { name: 'Client secret value' }).inputValue();
    expect(secret).toHaveLength(40);
    await panel.getByRole('row', { name: /prod/ }).waitFor();
    expect(await panel.getByRole('row', { name: /prod/ }).textContent()).toContain(`${secret.slice(0, 3)}…`);
    await settled(page);
    expect(await seriousViolations(page)).toEqual([]);
    await panel.getByRole('button', { name: 'Close' }).click();
    const row = page.getByRole('row', { name: /Partner portal/ });
    expect(await row.textContent()).toContain(appId);
    expect(await row.textContent()).toContain('Confidential');
    await row.getByRole('button', { name: 'Partner portal' }).click();
    await panel.getByRole('tab', { name: 'Client secrets' }).click();
    await panel.getByRole('row', { name: /prod/ }).waitFor();
    expect(await panel.getByRole('textbox', { name: 'Client secret value' }).count()).toBe(0);
    expect(await panel.textContent()).not.toContain(secret);

    // Only assigned people may sign in.
    await panel.getByRole('tab', { name: 'Properties' }).click();
    const required = panel.getByRole('switch', { name: 'Assignment required' });
    await required.click();
    await expect.poll(() => required.isChecked()).toBe(true);

    await panel.getByRole('tab', { name: 'Users and groups' }).click();
    await panel.getByText('No users or groups are assigned.').waitFor();
    const people = panel.getByRole('combobox', { name: 'Add users' });
    await people.click();
    await people.pressSequentially('Ana', { delay: 30 });
    await page.getByRole('option', { name: /Ana de Vries/ }).click();
    await panel.getByRole('button', { name: 'Assign', exact: true }).click();
    await panel.getByRole('row', { name: /Ana de Vries/ }).waitFor();
    expect(await panel.getByRole('row', { name: /Ana de Vries/ }).textContent()).toContain('Default Access');
    await settled(page);
    expect(await seriousViolations(page)).toEqual([]);
    await panel.getByRole('button', { name: 'Close' }).click();

    // The guest's details list the app, and remove it.
    await page.getByRole('link', { name: 'Guest users' }).click();
    await page.getByRole('button', { name: 'Ana de Vries' }).click();
    const details = page.getByRole('dialog');
    await details.getByRole('tab', { name: 'Apps' }).click();
    await details.getByRole('row', { name: /Partner portal/ }).waitFor();
    await settled(page);
    expect(await seriousViolations(page)).toEqual([]);
    await details.getByRole('button', { name: 'Remove access to Partner portal' }).click();
    await details.getByText('Not assigned to any application.').waitFor();

    const token = await server.t.clientToken(['Application.ReadWrite.All']);
    const sps = await call(server.t, { token }, { method: 'GET', url: `/v1.0/servicePrincipals?$filter=appId eq '${appId}'` });
    const sp = sps.json().value[0];
    expect(sp.appRoleAssignmentRequired).toBe(true);
    const assigned = await call(server.t, { token }, { method: 'GET', url: `/v1.0/servicePrincipals/${sp.id}/appRoleAssignedTo` });
    expect(assigned.json().value).toEqual([]);
    await context.close();
  });
});
