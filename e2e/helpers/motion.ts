import type { Page } from 'playwright-core';

/**
 * Waits for the page's short animations (a toast or panel fading in) to end, so axe-core measures
 * colours as they are shown rather than half-way through a fade. Long ones, such as the timer a
 * toast runs until it closes, are not waited for.
 */
export async function settled(page: Page): Promise<void> {
  await page.evaluate(() =>
    Promise.all(
      document
        .getAnimations()
        .filter((a) => Number(a.effect?.getComputedTiming().duration ?? 0) < 1000 && a.effect?.getComputedTiming().iterations !== Infinity)
        .map((a) => a.finished.catch(() => undefined)),
    ),
  );
}
