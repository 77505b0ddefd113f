// `node --import tsx scripts/screenshots.ts`: the admin center's main pages as PNG files in
// docs/screenshots/, taken in Debian's Chromium against a fresh server with a few invited guests.
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchBrowser, newContext, signIn, startServer } from '../e2e/helpers/server.js';
import { buildAdminCenterIfStale } from '../e2e/global-setup.js';
import { call } from '../test/helpers/test-app.js';

const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'screenshots');
mkdirSync(out, { recursive: true });
buildAdminCenterIfStale();

const guests = [
  ['Ana de Vries', 'ana.devries@fabrikam.test'],
  ['Bram Jansen', 'bram.jansen@northwind.test'],
  ['Carla Smit', 'carla@adatum.test'],
  ['Daan Bakker', 'daan.bakker@fabrikam.test'],
  ['Eva Visser', 'eva@litware.test'],
  ['Finn de Boer', 'finn.deboer@tailspin.test'],
  ['Gijs Mulder', 'gijs@woodgrove.test'],
  ['Hanna Wassink', 'hanna.wassink@proseware.test'],
];

const server = await startServer();
const browser = await launchBrowser();
try {
  const session = await server.t.signIn('admin@contoso.test', server.t.admin.password);
  const token = await server.t.clientToken(['User.Invite.All', 'Group.ReadWrite.All']);
  const group = await call(
    server.t,
    { token },
    {
      method: 'POST',
      url: '/v1.0/groups',
      payload: { displayName: 'Project Falcon', mailNickname: 'falcon', mailEnabled: true, securityEnabled: false, groupTypes: ['Unified'] },
    },
  );
  for (const [i, [name, email]] of guests.entries()) {
    const res = await call(server.t, i % 3 === 2 ? { token } : { session }, {
      method: 'POST',
      url: '/v1.0/foyer/invitations',
      payload: {
        invitedUserEmailAddress: email,
        invitedUserDisplayName: name,
        inviteRedirectUrl: `${server.url}/my`,
        sendInvitationMessage: true,
        groups: [group.json().id],
      },
    });
    if (res.statusCode !== 201) throw new Error(res.body);
  }

  for (const [locale, suffix] of [
    ['en-US', 'en'],
    ['nl-NL', 'nl'],
  ] as const) {
    const context = await newContext(browser, server, locale);
    const page = await context.newPage();
    await signIn(page, undefined, undefined, '/users/guests');
    await page.locator('tbody tr[data-id]').first().waitFor();
    await page.screenshot({ path: path.join(out, `guest-users-${suffix}.png`) });
    if (suffix === 'en') {
      await page.getByRole('button', { name: 'Invite a guest' }).click();
      await page.getByRole('textbox', { name: /^Email address/ }).fill('ines@fabrikam.test');
      await page.getByRole('textbox', { name: /^Personal message/ }).fill('Welcome to Project Falcon!');
      await page.waitForTimeout(400);
      await page.screenshot({ path: path.join(out, 'invite-panel.png') });
      await page.keyboard.press('Escape');
      await page.getByRole('button', { name: 'Ana de Vries' }).click();
      await page.getByRole('tab', { name: 'Invitations' }).waitFor();
      await page.waitForTimeout(400);
      await page.screenshot({ path: path.join(out, 'guest-details.png') });
      await page.keyboard.press('Escape');
      for (const [link, file] of [
        ['Home', 'home.png'],
        ['Groups', 'groups.png'],
        ['Audit log', 'audit-log.png'],
        ['External collaboration', 'external-collaboration.png'],
        ['Mail outbox', 'mail-outbox.png'],
      ]) {
        await page.getByRole('link', { name: link, exact: true }).click();
        await page.waitForLoadState('networkidle');
        await page.waitForTimeout(300);
        await page.screenshot({ path: path.join(out, file!) });
      }
      await page.getByRole('link', { name: 'Bulk invite', exact: true }).click();
      const csv = ['email,displayName', 'ines@fabrikam.test,Ines Peeters', 'not-an-address,Broken line', 'joost@northwind.test,Joost Smit'].join('\n');
      await page.getByLabel('Choose a CSV file').setInputFiles({ name: 'partners.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
      await page.getByTestId('bulk-preview').waitFor();
      await page.waitForTimeout(400);
      await page.screenshot({ path: path.join(out, 'bulk-invite-preview.png') });
      await page.getByRole('button', { name: 'Submit' }).click();
      await page.getByText('3 of 3 lines processed', { exact: false }).waitFor();
      await page.getByRole('row', { name: /joost@northwind\.test/ }).waitFor();
      await page.waitForTimeout(4500); // the toast closes
      await page.setViewportSize({ width: 1400, height: 1400 }); // the page scrolls inside its main area
      await page.screenshot({ path: path.join(out, 'bulk-invite-results.png') });
    }
    await context.close();
  }
  console.log(`screenshots written to ${path.relative(process.cwd(), out)}`);
} finally {
  await browser.close();
  await server.close();
}
