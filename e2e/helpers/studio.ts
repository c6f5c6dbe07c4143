/** Shared e2e steps: open the studio on a clean project, wait on app state, screenshot a panel. */
import { expect, type Page, type TestInfo } from '@playwright/test';

export async function openStudio(page: Page, opts: { fresh?: boolean } = {}): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  if (opts.fresh ?? true) {
    // A clean project: the database of an earlier test is dropped, then the page starts over.
    await page.evaluate(() => new Promise<void>((resolve) => {
      const r = indexedDB.deleteDatabase('quant-studio');
      r.onsuccess = r.onerror = r.onblocked = () => resolve();
    }));
    await page.reload();
  }
  await expect(page.getByRole('heading', { name: 'Quant Studio' })).toBeVisible();
  await expect(page.getByTestId('backend-badge')).not.toHaveAttribute('data-backend', 'pending', { timeout: 60_000 });
  await expect(page.getByTestId('data-status')).toHaveAttribute('data-status', 'ready');
  await expect(page.getByTestId('project-status')).toHaveAttribute('data-status', 'ready');
  return errors;
}

export async function failOnError(page: Page, testId: string, what: string): Promise<void> {
  const err = page.getByTestId(testId);
  if (await err.count()) throw new Error(`${what} failed: ${await err.innerText()}`);
}

export async function shoot(page: Page, testInfo: TestInfo, testId: string, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`);
  await page.getByTestId(testId).screenshot({ path });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}

/** Waits until the project was saved after `since` (a data-saved-at timestamp). */
export async function waitSaved(page: Page, since: number): Promise<void> {
  await expect.poll(async () => Number(await page.getByTestId('project-status').getAttribute('data-saved-at') || 0)).toBeGreaterThan(since);
}
