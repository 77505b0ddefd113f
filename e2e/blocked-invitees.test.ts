import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { settled } from './helpers/motion.js';
import { E2E_TIMEOUT, launchBrowser, newContext, seriousViolations, signIn, startServer, type E2eServer } from './helpers/server.js';
import { call, testEngine, type Session } from '../test/helpers/test-app.js';

describe(`admin center: blocked invitees on the External collaboration page (${testEngine})`, { timeout: E2E_TIMEOUT }, () => {
  let server: E2eServer;
  let browser: Browser;
  let session: Session;
  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser()]);
    session = await server.t.signIn('admin@contoso.test', server.t.admin.password);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const invite = (email: string) =>
    call(
      server.t,
      { session },
      {
        method: 'POST',
        url: '/v1.0/invitations',
        payload: { invitedUserEmailAddress: email, inviteRedirectUrl: `${server.url}/my`, sendInvitationMessage: true },
      },
    );
  const toast = (page: Page, text: string) => page.locator('.fui-ToastTitle').filter({ hasText: text }).first();

  /** The invitation email's text, opened from the Mail outbox page as an administrator reads it. */
  async function mailTo(admin: Page, email: string): Promise<string> {
    await admin.goto('/outbox');
    const row = admin.getByRole('row', { name: new RegExp(email.replace(/[.]/g, '\\.')) }).first();
    await row.waitFor();
    await row.getByRole('button').first().click();
    const text = (await admin.getByTestId('mail-text').textContent()) ?? '';
    await admin.getByRole('button', { name: 'Close' }).click();
    return text;
  }

  it('the invitee blocks invitations from the email’s link; an administrator sees the address and removes the block', async () => {
    expect((await invite('noor@fabrikam.test')).statusCode).toBe(201);
    const adminContext = await newContext(browser, server);
    const admin = await adminContext.newPage();
    await signIn(admin);
    await admin.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    const text = await mailTo(admin, 'noor@fabrikam.test');
    // The API call that invited named no public address, so the link's host is the test's: open its path here.
    const blockLink = /https?:\/\/[^/\s]+(\/redeem\/block\?t=\S+)/.exec(text)![1]!;

    // The invitee, in a browser of their own.
    const guestContext = await newContext(browser, server);
    const guest = await guestContext.newPage();
    await guest.goto(blockLink);
    await guest.getByText('Stop all invitations from Contoso to noor@fabrikam.test?').waitFor();
    await guest.getByRole('button', { name: 'Block invitations' }).click();
    await guest.getByText('Done. Contoso can no longer invite this address.').waitFor();
    await guestContext.close();
    expect((await invite('noor@fabrikam.test')).statusCode).toBe(400);

    await admin.goto('/');
    await admin.getByRole('link', { name: 'External collaboration' }).click();
    await admin.getByRole('heading', { level: 1, name: 'External collaboration settings' }).waitFor();
    const blocked = admin.getByRole('grid', { name: 'Blocked invitees' });
    const row = blocked.getByRole('row', { name: /noor@fabrikam\.test/ });
    await row.waitFor();
    await settled(admin);
    expect(await seriousViolations(admin)).toEqual([]);

    await row.getByRole('button', { name: 'Remove the block of noor@fabrikam.test' }).click();
    const dialog = admin.getByRole('alertdialog', { name: 'Remove the block of noor@fabrikam.test?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Remove' }).click();
    await toast(admin, 'noor@fabrikam.test can be invited again.').waitFor();
    await admin.getByText('No address has blocked invitations.').waitFor();
    expect((await invite('noor@fabrikam.test')).statusCode).toBe(201);
    await adminContext.close();
  });

  it('the section in Dutch', async () => {
    await server.t.database.db
      .insertInto('blocked_invitees')
      .values({ tenant_id: server.t.tenant.id, email_lower: 'sem@northwind.test', created_at: server.t.clock.now().toISOString() })
      .execute();
    const context = await newContext(browser, server, 'nl-NL');
    const page = await context.newPage();
    await signIn(page);
    await page.getByRole('link', { name: 'Externe samenwerking' }).click();
    await page.getByRole('heading', { level: 2, name: 'Geblokkeerde genodigden' }).waitFor();
    await page
      .getByRole('grid', { name: 'Geblokkeerde genodigden' })
      .getByRole('row', { name: /sem@northwind\.test/ })
      .waitFor();
    await page.getByRole('button', { name: 'Blokkering van sem@northwind.test verwijderen' }).waitFor();
    await settled(page);
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });
});
