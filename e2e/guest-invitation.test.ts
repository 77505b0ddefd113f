import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { E2E_TIMEOUT, launchBrowser, newContext, seriousViolations, signIn, startServer, type E2eServer } from './helpers/server.js';
import { testEngine } from '../test/helpers/test-app.js';

/** Opens the newest outbox message whose subject matches, from the admin center's Mail outbox page, and returns its text. */
async function readMail(admin: Page, subject: RegExp): Promise<string> {
  await admin.goto('/outbox');
  const link = admin.getByRole('button', { name: subject }).first();
  await link.waitFor();
  await link.click();
  const text = (await admin.getByTestId('mail-text').textContent()) ?? '';
  await admin.getByRole('button', { name: 'Close' }).click();
  return text;
}

describe(`admin center: invitation to acceptance in a browser (${testEngine})`, { timeout: E2E_TIMEOUT }, () => {
  let server: E2eServer;
  let browser: Browser;
  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('an administrator invites a guest with a message and a group; the guest accepts, signs in with the code and lands on My access; the list shows Accepted', async () => {
    const adminContext = await newContext(browser, server);
    const admin = await adminContext.newPage();
    await signIn(admin);
    // Signing in hashes the password; on a loaded machine that alone can pass expect.poll's default second.
    await expect.poll(() => admin.getByRole('heading', { level: 1 }).textContent(), { timeout: 15_000 }).toBe('Home');

    // A group to invite into, made on the Groups page.
    await admin.getByRole('link', { name: 'Groups' }).click();
    await admin.getByRole('button', { name: 'Add a group' }).click();
    await admin.getByRole('textbox', { name: /^Name/ }).fill('Project Falcon');
    await admin.getByRole('button', { name: 'Add', exact: true }).click();
    await admin.getByRole('button', { name: 'Project Falcon' }).waitFor();

    // Invite from the Guest users page.
    await admin.getByRole('link', { name: 'Guest users' }).click();
    await admin.getByText('No guests yet').waitFor();
    await admin.getByRole('button', { name: 'Invite a guest' }).click();
    await admin.getByRole('textbox', { name: /^Email address/ }).fill('ana.vries@fabrikam.test');
    await admin.getByRole('textbox', { name: /^Display name/ }).fill('Ana de Vries');
    await admin.getByLabel('Personal message').fill('Welcome to Project Falcon, Ana!');
    const groups = admin.getByRole('combobox', { name: 'Add to groups' });
    await groups.click();
    await groups.pressSequentially('Proj', { delay: 30 });
    await admin.getByRole('option', { name: /Project Falcon/ }).click();
    await admin.getByRole('button', { name: 'Invite', exact: true }).click();
    await admin.getByText('Invitation created').waitFor();
    const redeemLink = await admin.getByRole('textbox', { name: 'Invitation link' }).inputValue();
    expect(redeemLink).toMatch(new RegExp(`^${server.url}/redeem\\?t=`));
    await admin.getByRole('button', { name: 'Close' }).last().click();

    const row = admin.getByRole('row', { name: /Ana de Vries/ });
    await expect.poll(() => row.textContent()).toContain('Pending');
    expect(await row.textContent()).toContain('ana.vries@fabrikam.test');

    // The email, as the guest would read it, from the outbox.
    const invitation = await readMail(admin, /invited you to access applications/);
    expect(invitation).toContain('Welcome to Project Falcon, Ana!');
    const link = /http:\/\/127\.0\.0\.1:\d+\/redeem\?t=[\w-]+/.exec(invitation)?.[0];
    expect(link).toBe(redeemLink);

    // The guest, in a browser of their own.
    const guestContext = await newContext(browser, server);
    const guest = await guestContext.newPage();
    await guest.goto(link!);
    await guest.getByRole('heading', { name: 'You have been invited' }).waitFor();
    await guest.getByRole('button', { name: 'Accept' }).click();
    await guest.getByRole('heading', { name: 'Enter your code' }).waitFor();

    const codeMail = await readMail(admin, /code/i);
    const code = /\b\d{8}\b/.exec(codeMail)?.[0];
    expect(code).toBeTruthy();
    await guest.getByLabel('Code').fill(code!);
    await guest.getByRole('button', { name: 'Sign in' }).click();
    await guest.getByRole('heading', { name: 'My access' }).waitFor();
    expect(new URL(guest.url()).pathname).toBe('/my');
    expect(await guest.locator('main').textContent()).toContain('Project Falcon');

    // Back in the admin center: Accepted, and the details say where the guest came from.
    await admin.getByRole('link', { name: 'Guest users' }).click();
    await admin.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => admin.getByRole('row', { name: /Ana de Vries/ }).textContent()).toContain('Accepted');
    await admin.getByRole('button', { name: 'Ana de Vries' }).click();
    const panel = admin.getByRole('dialog');
    await panel.getByText('ana.vries_fabrikam.test#EXT#@contoso.test').waitFor();
    const properties = (await panel.textContent()) ?? '';
    expect(properties).toMatch(/SourceDirectory/);
    expect(properties).toMatch(/Invited byAdministrator/);
    await panel.getByRole('tab', { name: 'Groups' }).click();
    await panel.getByText('Project Falcon').waitFor();

    // The same guest opening an administrator page gets a clear refusal, and no directory data: the only
    // directory call the app makes (the guest list it asks for while starting) is refused by the server.
    const answers: { path: string; status: number }[] = [];
    guest.on('response', (r) => answers.push({ path: new URL(r.url()).pathname, status: r.status() }));
    await guest.goto('/users/guests');
    await guest.getByRole('heading', { name: 'You don’t have access to this page' }).waitFor();
    await guest.waitForLoadState('networkidle');
    expect(await guest.getByText('Ana de Vries').count()).toBeGreaterThan(0); // named as who is signed in
    expect(await guest.locator('table').count()).toBe(0);
    const directory = answers.filter((a) => a.path.startsWith('/v1.0/') && a.path !== '/v1.0/foyer/session');
    expect(directory.every((a) => a.status === 403)).toBe(true);
    expect(await seriousViolations(guest)).toEqual([]);
    await guest.getByRole('link', { name: 'Go to My access' }).click();
    await guest.getByRole('heading', { name: 'My access' }).waitFor();

    await guestContext.close();
    await adminContext.close();
  });

  it('shows the Guest users page in Dutch for a Dutch browser and switches language on request', async () => {
    const context = await newContext(browser, server, 'nl-NL');
    const page = await context.newPage();
    await page.goto('/users/guests');
    await page.getByRole('heading', { name: 'Aanmelden' }).waitFor();
    await page.getByLabel('E-mailadres of gebruikersnaam').fill('admin@contoso.test');
    await page.getByLabel('Wachtwoord').fill((await import('../test/helpers/test-app.js')).ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Aanmelden' }).click();
    await page.getByRole('heading', { name: 'Gastgebruikers' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('nl');
    await page.getByRole('button', { name: 'Een gast uitnodigen' }).waitFor();
    await page.getByRole('columnheader', { name: 'Uitnodigingsstatus' }).waitFor();
    await page.getByRole('link', { name: 'Verwijderde gebruikers' }).waitFor();
    expect(await page.getByTestId('guest-count').textContent()).toMatch(/^1 gast/);
    expect(await page.getByRole('row', { name: /Ana de Vries/ }).textContent()).toContain('Geaccepteerd');
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole('combobox', { name: 'Taal' }).selectOption('en');
    await page.getByRole('heading', { name: 'Guest users' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await context.close();
  });
});
