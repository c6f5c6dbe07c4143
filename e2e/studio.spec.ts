/**
 * The minimal studio end to end, in Chromium with WebGPU on SwiftShader: backend badge, a short
 * training run (progress bar, live chart, epoch results), cancel, pause / resume, and the CPU
 * fallback. Every wait is on app state (data-testid / data-* / aria attributes); no sleeps.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';

/** Tiny runs: SwiftShader is slow and shares two cores. */
const TINY = { trainImages: 256, testImages: 128, batchSize: 32, epochs: 1 };
/** Enough steps that a run is still going when we pause or cancel it. */
const LONG = { trainImages: 4096, testImages: 128, batchSize: 32, epochs: 1 };

async function configure(page: Page, s: Record<string, number>, model = 'cnn-small'): Promise<void> {
  await page.getByTestId('model-select').selectOption(model);
  for (const [k, v] of Object.entries(s)) await page.getByTestId(`setting-${k}`).fill(String(v));
}

async function step(page: Page): Promise<number> {
  return Number(await page.getByTestId('progress-bar').getAttribute('data-step'));
}

async function openStudio(page: Page, query = ''): Promise<void> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`/${query}`);
  await expect(page.getByRole('heading', { name: 'Quant Studio' })).toBeVisible();
  await expect(page.getByTestId('backend-badge')).not.toHaveAttribute('data-backend', 'pending', { timeout: 60_000 });
  expect(errors).toEqual([]);
}

/** Fails on a training error right away instead of waiting for a timeout. */
async function expectNoRunError(page: Page): Promise<void> {
  const err = page.getByTestId('run-error');
  if (await err.count()) throw new Error(`training failed: ${await err.innerText()}`);
}

test('the studio loads and runs on WebGPU (not the CPU fallback)', async ({ page }) => {
  await openStudio(page);
  const badge = page.getByTestId('backend-badge');
  await expect(badge).toHaveAttribute('data-backend', 'webgpu');
  await expect(badge).toContainText('WebGPU');
  expect((await badge.getAttribute('data-adapter'))?.length ?? 0).toBeGreaterThan(0);
  await expect(page.getByTestId('backend-notice')).toHaveCount(0);

  // The chosen model's size, cost and input shape.
  await expect(page.getByTestId('model-params')).toHaveText('32,050');
  await expect(page.getByTestId('model-input')).toHaveText('1 × 28 × 28');
  await page.getByTestId('model-select').selectOption('mlp');
  await expect(page.getByTestId('model-params')).toHaveText('235,146');
  await expect(page.getByTestId('model-macs')).not.toHaveText('');

  // Defaults keep the first run small.
  await expect(page.getByTestId('setting-trainImages')).toHaveValue('2000');
  await expect(page.getByTestId('setting-testImages')).toHaveValue('500');
  await expect(page.getByTestId('setting-epochs')).toHaveValue('1');
  await expect(page.getByTestId('setting-batchSize')).toHaveValue('64');
  await expect(page.getByTestId('train-button')).toBeEnabled();

  // Invalid input is flagged and blocks training.
  await page.getByTestId('setting-batchSize').fill('0');
  await expect(page.getByTestId('setting-batchSize')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByTestId('train-button')).toBeDisabled();
});

test('training advances the progress bar, the chart gains points, epoch results appear', async ({ page }, testInfo) => {
  await openStudio(page);
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-backend', 'webgpu');
  await configure(page, TINY);
  const bar = page.getByTestId('progress-bar');
  const chart = page.getByTestId('loss-chart');
  await expect(bar).toHaveAttribute('aria-valuenow', '0');
  await page.getByTestId('train-button').click();

  await expect.poll(async () => { await expectNoRunError(page); return step(page); }).toBeGreaterThanOrEqual(2);
  expect(Number(await bar.getAttribute('aria-valuenow'))).toBeGreaterThan(0);
  await expect.poll(async () => Number(await chart.getAttribute('data-loss-points'))).toBeGreaterThanOrEqual(2);
  await expect(chart.locator('path.loss-smooth')).toHaveAttribute('d', /^M/);

  await expect.poll(async () => { await expectNoRunError(page); return page.getByTestId('run-status').getAttribute('data-outcome'); })
    .toBe('done');
  await expect(bar).toHaveAttribute('aria-valuenow', '100');
  await expect(bar).toHaveAttribute('data-step', '8');
  await expect(chart).toHaveAttribute('data-loss-points', '8');
  await expect(chart).toHaveAttribute('data-acc-points', '1');
  await expect(chart.locator('circle.acc-point')).toHaveCount(1);
  await expect(page.getByTestId('epoch-row')).toHaveCount(1);
  await expect(page.getByTestId('epoch-results')).toContainText('%');
  await expect(page.getByTestId('train-button')).toBeEnabled();

  const shot = testInfo.outputPath('studio.png');
  await page.screenshot({ path: shot, fullPage: true });
  await testInfo.attach('studio', { path: shot, contentType: 'image/png' });
  // UPDATE_SCREENSHOT=1 npm run test:e2e refreshes the README's picture; plain test runs leave the tree clean.
  if (process.env.UPDATE_SCREENSHOT) {
    await mkdir('docs', { recursive: true });
    await copyFile(shot, 'docs/screenshot.png');
  }
});

test('cancel stops training and the UI returns to idle', async ({ page }) => {
  await openStudio(page);
  await configure(page, LONG);
  await page.getByTestId('train-button').click();
  await expect.poll(async () => { await expectNoRunError(page); return step(page); }).toBeGreaterThanOrEqual(1);
  await expect(page.getByTestId('cancel-button')).toBeEnabled();
  await page.getByTestId('cancel-button').click();

  const status = page.getByTestId('run-status');
  await expect(status).toHaveAttribute('data-status', 'idle');
  await expect(status).toHaveAttribute('data-outcome', 'cancelled');
  await expect(status).toHaveText('Run cancelled: there is no float model yet');
  const stopped = await step(page);
  expect(stopped).toBeLessThan(LONG.trainImages / LONG.batchSize);
  await expect(page.getByTestId('train-button')).toBeEnabled();
  await expect(page.getByTestId('pause-button')).toBeDisabled();
  await expect(page.getByTestId('cancel-button')).toBeDisabled();
  await expect(page.getByTestId('model-select')).toBeEnabled();
  await expect(page.getByTestId('epoch-row')).toHaveCount(0);

  // The worker is free again: a new run starts from step 0.
  await configure(page, TINY, 'mlp');
  await page.getByTestId('train-button').click();
  await expect.poll(async () => { await expectNoRunError(page); return page.getByTestId('run-status').getAttribute('data-outcome'); })
    .toBe('done');
});

test('pause stops progress and resume continues', async ({ page }) => {
  await openStudio(page);
  await configure(page, LONG);
  await page.getByTestId('train-button').click();
  const status = page.getByTestId('run-status');

  // Time one step, to know how long "no progress" has to last to mean something.
  await expect.poll(async () => { await expectNoRunError(page); return step(page); }).toBeGreaterThanOrEqual(1);
  const s1 = await step(page), t1 = Date.now();
  await expect.poll(() => step(page)).toBeGreaterThan(s1);
  const stepMs = (Date.now() - t1) / Math.max(1, (await step(page)) - s1);

  await page.getByTestId('pause-button').click();
  // `paused` is the worker's acknowledgement: it holds between two steps.
  await expect(status).toHaveAttribute('data-status', 'paused');
  await expect(page.getByTestId('resume-button')).toBeEnabled();
  await expect(page.getByTestId('pause-button')).toBeDisabled();
  const held = await step(page);
  await expect(status).toHaveText(`Paused at step ${held}`);

  // While paused, the step counter must stay put for several step durations.
  const holdMs = Math.min(15_000, Math.max(2_000, 4 * stepMs));
  const t0 = Date.now();
  await expect.poll(async () => {
    if ((await step(page)) !== held) return 'moved';
    return Date.now() - t0 >= holdMs ? 'held' : 'holding';
  }, { intervals: [200], timeout: holdMs + 30_000 }).toBe('held');

  await page.getByTestId('resume-button').click();
  await expect.poll(async () => { await expectNoRunError(page); return step(page); }).toBeGreaterThan(held);
  await expect(status).toHaveAttribute('data-status', 'running');

  await page.getByTestId('cancel-button').click();
  await expect(status).toHaveAttribute('data-outcome', 'cancelled');
});

test('with the CPU backend chosen, the page says so and still trains', async ({ page }) => {
  await openStudio(page, '?backend=cpu');
  const badge = page.getByTestId('backend-badge');
  await expect(badge).toHaveAttribute('data-backend', 'cpu');
  await expect(page.getByTestId('backend-notice')).toContainText('CPU reference backend');
  await expect(page.getByTestId('backend-select')).toHaveValue('cpu');
  await configure(page, { trainImages: 128, testImages: 64, batchSize: 32, epochs: 1 }, 'mlp');
  await page.getByTestId('train-button').click();
  await expect.poll(async () => { await expectNoRunError(page); return page.getByTestId('run-status').getAttribute('data-outcome'); })
    .toBe('done');
  await expect(page.getByTestId('epoch-row')).toHaveCount(1);

  // Switching back to Auto restarts the worker on WebGPU.
  await page.getByTestId('backend-select').selectOption('auto');
  await expect(badge).toHaveAttribute('data-backend', 'webgpu', { timeout: 60_000 });
  await expect(page.getByTestId('backend-notice')).toHaveCount(0);
});
