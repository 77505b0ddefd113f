import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { settled } from './helpers/motion.js';
import { E2E_TIMEOUT, launchBrowser, newContext, seriousViolations, signIn, startServer, type E2eServer } from './helpers/server.js';
import { testEngine } from '../test/helpers/test-app.js';

const csv = [
  'email,displayName,sendEmail',
  'lena.kok@fabrikam.test,Lena Kok,true',
  'not-an-address,Broken Line,true',
  'mo.haddad@northwind.test,Mo Haddad,false',
  'iris.bos@adatum.test,Iris Bos,true',
].join('\r\n');

/** Records of a downloaded CSV (the result file has no quoted line breaks in these lines). */
const records = (text: string) =>
  text
    .replace(/^\uFEFF/, '')
    .trim()
    .split(/\r?\n/)
    .map((l) => l.split(','));

describe(`admin center: bulk invite (${testEngine})`, { timeout: E2E_TIMEOUT }, () => {
  let server: E2eServer;
  let browser: Browser;
  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('an administrator drops a CSV with a bad line, sees the preview, submits, follows the progress, filters and downloads the results, and finds the upload in the history', async () => {
    const context = await newContext(browser, server);
    const page = await context.newPage();
    await signIn(page);
    await page.getByRole('link', { name: 'Bulk invite' }).click();
    await page.getByRole('heading', { level: 1, name: 'Bulk invite' }).waitFor();
    await page.getByText('No bulk uploads yet.').waitFor();
    await settled(page);
    expect(await seriousViolations(page)).toEqual([]);

    // The template, as Entra's.
    const [template] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download template' }).click()]);
    expect((await readFile((await template.path())!, 'utf8')).replace(/^\uFEFF/, '')).toMatch(/^version:v1\.0\r?\n.*\[inviteeEmail\]/);

    // Dropped on the page, as a file from the desktop would be.
    const transfer = await page.evaluateHandle((text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], 'partners.csv', { type: 'text/csv' }));
      return dt;
    }, csv);
    await page.getByTestId('drop-zone').dispatchEvent('drop', { dataTransfer: transfer });
    const preview = page.getByTestId('bulk-preview');
    await preview.getByText('4 lines: 3 can be invited, 1 with errors.').waitFor();
    const errorRow = preview.getByRole('row', { name: /not-an-address/ });
    expect(await errorRow.textContent()).toMatch(/^3not-an-addressemail/);
    await settled(page);
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole('button', { name: 'Submit' }).click();
    await page.getByRole('heading', { name: 'Upload: partners.csv' }).waitFor();
    await expect.poll(() => page.getByTestId('bulk-status').textContent(), { timeout: 20_000 }).toContain('Completed');
    await page.getByText('4 of 4 lines processed: 3 invited, 0 already invited, 1 failed.').waitFor();
    expect(await page.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('1');

    // The results: every line, then the failed one only.
    const results = page.getByRole('grid', { name: 'Results' }).or(page.getByRole('table', { name: 'Results' }));
    await results.getByRole('row', { name: /iris\.bos@adatum\.test/ }).waitFor();
    expect(await results.getByRole('row', { name: /Invited/ }).count()).toBe(3);
    await page.getByRole('switch', { name: 'Failed only' }).click();
    await expect.poll(() => results.getByRole('row', { name: /@/ }).count()).toBe(0);
    expect(await results.getByRole('row', { name: /not-an-address/ }).textContent()).toContain('Failed');
    expect(await results.getByRole('row', { name: /Invited/ }).count()).toBe(0);
    await page.getByRole('switch', { name: 'Failed only' }).click();
    await results.getByRole('row', { name: /lena\.kok@fabrikam\.test/ }).waitFor();
    await settled(page);
    expect(await seriousViolations(page)).toEqual([]);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download results' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^bulk-invitation-[0-9a-f-]+-results\.csv$/);
    const rows = records(await readFile((await download.path())!, 'utf8'));
    expect(rows[0]).toEqual(['line', 'email', 'status', 'userId', 'redeemUrl', 'column', 'reason']);
    expect(rows.slice(1).map((r) => [r[0], r[1], r[2]])).toEqual([
      ['2', 'lena.kok@fabrikam.test', 'succeeded'],
      ['3', 'not-an-address', 'failed'],
      ['4', 'mo.haddad@northwind.test', 'succeeded'],
      ['5', 'iris.bos@adatum.test', 'succeeded'],
    ]);
    expect(rows[1]![4]).toMatch(new RegExp(`^${server.url}/redeem\\?t=`));
    expect(rows[2]![5]).toBe('email');

    // The history, like Entra's "Bulk operation results".
    const history = page.getByRole('table', { name: 'Bulk operation results' });
    const upload = history.getByRole('row', { name: /partners\.csv/ });
    await expect.poll(() => upload.textContent()).toMatch(/partners\.csvCompleted3014Administrator$/);

    // The guests are in the list, with source Bulk.
    await page.getByRole('link', { name: 'Guest users' }).click();
    await expect.poll(() => page.getByRole('row', { name: /Lena Kok/ }).textContent()).toContain('Bulk');
    await context.close();
  });

  it('shows the page in Dutch, and refuses a file without an email column before anything is written', async () => {
    const context = await newContext(browser, server, 'nl-NL');
    const page = await context.newPage();
    await signIn(page, undefined, undefined, '/users/bulk-invite');
    await page.getByRole('heading', { level: 1, name: 'Bulksgewijs uitnodigen' }).waitFor();
    await page
      .getByRole('table', { name: 'Resultaten van bulkbewerkingen' })
      .getByRole('row', { name: /partners\.csv/ })
      .waitFor();
    await page
      .getByLabel('Kies een CSV-bestand')
      .setInputFiles({ name: 'wrong.csv', mimeType: 'text/csv', buffer: Buffer.from('name,company\nAna,Fabrikam\n') });
    await page.getByText('Het bestand kan niet worden gebruikt').waitFor();
    expect(await page.getByRole('button', { name: 'Verzenden' }).isDisabled()).toBe(true);
    await settled(page);
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });
});
