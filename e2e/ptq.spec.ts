/**
 * The PTQ algorithms as choices in the page (issue 13): int4 weights, automatic calibration over the candidates
 * picked (one typed with a parameter), AdaRound with a few steps; the calibration shows its progress, then the
 * per-layer AdaRound table and the per-site choices; both, with the settings that made them, survive a reload.
 * Tiny sizes: the point is the page, not the accuracy.
 */
import { expect, test } from '@playwright/test';
import { failOnError, openStudio, waitSaved } from './helpers/studio.ts';

test('int4 + automatic calibration + AdaRound from the Quantize settings, kept with the project', async ({ page }) => {
  test.setTimeout(600_000); // a loaded 2-core machine: training, calibration and AdaRound on SwiftShader
  await openStudio(page);
  for (const [k, v] of Object.entries({ trainImages: 128, testImages: 64, batchSize: 32, epochs: 1 })) await page.getByTestId(`setting-${k}`).fill(String(v));
  await page.getByTestId('train-button').click();
  await expect.poll(async () => { await failOnError(page, 'run-error', 'training'); return page.getByTestId('run-status').getAttribute('data-outcome'); }).toBe('done');

  await page.getByTestId('quant-calib-batches').fill('1');
  await page.getByTestId('quant-calib-batch-size').fill('32');
  await page.getByTestId('quant-weight-bits').selectOption('4');
  await page.getByTestId('quant-auto-calib').check();
  const candidates = page.getByTestId('quant-auto-calib-observers');
  for (const o of ['percentile', 'mse', 'kl']) await candidates.getByLabel(o, { exact: true }).uncheck();
  await page.getByTestId('quant-auto-calib-params').fill('percentile:101');
  await expect(page.getByRole('alert').filter({ hasText: 'percentile:101' })).toBeVisible();
  await expect(page.getByTestId('calibrate-button')).toBeDisabled();
  await page.getByTestId('quant-auto-calib-params').fill('percentile:99.9');
  await page.getByTestId('quant-auto-calib-gate').selectOption('2');
  await page.getByTestId('quant-adaround-steps').fill('4');
  await page.getByTestId('quant-adaround-batches').fill('1');
  await page.getByTestId('calibrate-button').click();
  const status = page.getByTestId('quant-status');
  await expect.poll(async () => { await failOnError(page, 'quant-error', 'calibration with PTQ'); return status.getAttribute('data-outcome'); }, { timeout: 480_000 }).toBe('done');

  const results = page.getByTestId('ptq-results');
  // cnn-small: 4 conv / linear layers, 6 activation sites.
  await expect(page.getByTestId('adaround-table').locator('tbody tr')).toHaveCount(4);
  await expect(page.getByTestId('auto-calib-table').locator('tbody tr')).toHaveCount(6);
  await expect(page.getByTestId('auto-calib-table')).toContainText('percentile:99.9');
  await expect(page.getByTestId('auto-calib-table')).toContainText('(z ');
  await expect(page.getByTestId('auto-calib-summary')).toContainText('gate z ≥ 2');
  await expect(page.getByTestId('adaround-summary')).toContainText('4 steps');
  const summary = await results.textContent();

  await waitSaved(page, 0);
  await page.reload();
  await expect(page.getByTestId('project-status')).toHaveAttribute('data-status', 'ready');
  await expect(page.getByTestId('ptq-results')).toHaveText(summary ?? '');
  await expect(page.getByTestId('quant-weight-bits')).toHaveValue('4');
  await expect(page.getByTestId('quant-adaround-steps')).toHaveValue('4');
  await expect(page.getByTestId('quant-auto-calib-params')).toHaveValue('percentile:99.9');
  await expect(page.getByTestId('quant-auto-calib-gate')).toHaveValue('2');
});
