import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { createTestApp, runJobs, ADMIN_PASSWORD, type TestApp } from '../../test/helpers/test-app.js';

/** Debian's Chromium; browsers are never downloaded. */
export const CHROMIUM = process.env.FOYER_CHROMIUM ?? '/usr/bin/chromium';

export interface E2eServer {
  t: TestApp;
  /** http://127.0.0.1:PORT */
  url: string;
  close(): Promise<void>;
}

/**
 * Foyer on a fresh database (SQLite, or PostgreSQL under test:all), listening on a random port
 * with the built admin center, and a worker loop delivering queued mail to the outbox.
 */
export async function startServer(): Promise<E2eServer> {
  const t = await createTestApp({ baseUrl: null });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  let running = Promise.resolve();
  let stopped = false;
  const timer = setInterval(() => {
    running = running.then(() => (stopped ? undefined : runJobs(t).then(() => undefined))).catch(() => undefined);
  }, 200);
  return {
    t,
    url,
    async close() {
      stopped = true;
      clearInterval(timer);
      await running;
      await t.close();
    },
  };
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** A new browser context (its own cookies) in English unless told otherwise. */
export async function newContext(browser: Browser, server: E2eServer, locale = 'en-US'): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL: server.url, locale, viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  // Well under the test's own timeout, so a missing element fails with its locator named.
  context.setDefaultTimeout(15_000);
  return context;
}

/** Browser tests drive whole flows; they get more time than the API tests. */
export const E2E_TIMEOUT = 180_000;

/** Signs in through the sign-in page, as a person would. */
export async function signIn(page: Page, userName = 'admin@contoso.test', password = ADMIN_PASSWORD, path = '/'): Promise<void> {
  await page.goto(path);
  await page.getByLabel(/Email or user name|E-mailadres of gebruikersnaam/).fill(userName);
  await page.getByLabel(/^Password|^Wachtwoord/).fill(password);
  await page.getByRole('button', { name: /^(Sign in|Aanmelden)$/ }).click();
}

/** axe-core's serious and critical findings on the page as it is now (WCAG 2.1 A/AA rules). */
export async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    // Fluent UI's focus manager (tabster) puts aria-hidden focus sentinels around focus groups on purpose: they
    // hand focus on at once and must stay hidden from screen readers (microsoft/tabster#288, a known false positive).
    .exclude('[data-tabster-dummy]')
    .analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} — ${v.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 3)
          .join(' | ')}`,
    );
}
