/**
 * Run history (issue 11): two calibrations with different observers, one QAT pass and a deployment check are each
 * kept as a run; a run is renamed and one deleted; two calibrations are compared side by side (accuracies, the
 * setting that differs, per-layer scales, histograms of one site overlaid); the history survives a reload.
 */
import { expect, test, type Page } from '@playwright/test';
import { expectDisabledExplained } from './helpers/disabled.ts';
import { failOnError, openStudio, shoot, waitSaved } from './helpers/studio.ts';

async function quantDone(page: Page, button: string, what: string): Promise<void> {
  await page.getByTestId(button).click();
  const status = page.getByTestId('quant-status');
  if (await status.getAttribute('data-status') === 'running') await expectDisabledExplained(page, `while ${what} runs`);
  await expect(status).toHaveAttribute('data-status', 'idle');
  await expect.poll(async () => { await failOnError(page, 'quant-error', what); return status.getAttribute('data-outcome'); }, { timeout: 300_000 }).toBe('done');
}

test('every calibration, QAT and deployment check is a run: listed, renamed, deleted, compared, kept', async ({ page }, testInfo) => {
  test.setTimeout(900_000); // training, two calibrations, QAT and a deployment check on SwiftShader
  const errors = await openStudio(page);
  await expect(page.getByTestId('runs-empty')).toBeVisible();
  await expectDisabledExplained(page, 'on a fresh page');
  for (const [k, v] of Object.entries({ trainImages: 256, testImages: 64, batchSize: 32, epochs: 1 })) await page.getByTestId(`setting-${k}`).fill(String(v));
  await page.getByTestId('train-button').click();
  if (await page.getByTestId('run-status').getAttribute('data-status') === 'running') await expectDisabledExplained(page, 'while training');
  await expect.poll(async () => { await failOnError(page, 'run-error', 'training'); return page.getByTestId('run-status').getAttribute('data-outcome'); }, { timeout: 300_000 }).toBe('done');

  await page.getByTestId('quant-calib-batches').fill('2');
  await page.getByTestId('quant-calib-batch-size').fill('32');
  await page.getByTestId('quant-observer').selectOption('minmax');
  await quantDone(page, 'calibrate-button', 'calibration 1');
  await page.getByTestId('quant-observer').selectOption('percentile');
  await quantDone(page, 'calibrate-button', 'calibration 2');
  const rows = page.getByTestId('run-row');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0).getByTestId('run-name')).toHaveValue('Calibration 1 (minmax, bayes)');
  await expect(rows.nth(1).getByTestId('run-name')).toHaveValue('Calibration 2 (percentile, bayes)');

  // The two calibrations side by side (picked by default: the newest against the one before).
  const cmp = page.getByTestId('run-compare');
  await expect(cmp).toBeVisible();
  const acc = page.getByTestId('compare-acc1');
  expect(Number(await acc.getAttribute('data-a'))).toBe(Number(await rows.nth(0).getAttribute('data-acc1')));
  expect(Number(await acc.getAttribute('data-b'))).toBe(Number(await rows.nth(1).getAttribute('data-acc1')));
  await expect(page.getByTestId('compare-settings')).toContainText('observer minmax → percentile');
  await expect(page.getByTestId('compare-layers')).toHaveAttribute('data-metric', 'scale');
  expect(Number(await page.getByTestId('compare-layers').getAttribute('data-rows'))).toBeGreaterThan(3);
  const overlay = page.getByTestId('hist-overlay');
  await expect(overlay.locator('path.outline')).toHaveCount(2);
  await expect(overlay.locator('line.clip')).toHaveCount(4);
  // The percentile observer clips tighter than min/max on at least the first site.
  const clipA = (await overlay.getAttribute('data-clip-a'))!.split(',').map(Number), clipB = (await overlay.getAttribute('data-clip-b'))!.split(',').map(Number);
  expect(clipB[1] - clipB[0]).toBeLessThanOrEqual(clipA[1] - clipA[0]);
  await shoot(page, testInfo, 'panel-runs', 'runs-compare-calibrations');

  // QAT and a deployment check are runs too.
  await page.getByTestId('quant-qat-images').fill('64');
  await quantDone(page, 'qat-button', 'QAT');
  await page.getByTestId('deploy-images').fill('32');
  await page.getByTestId('deploy-batch-size').fill('32');
  await page.getByTestId('deploy-run-button').click();
  await expect.poll(async () => { await failOnError(page, 'deploy-error', 'deployment check'); return page.getByTestId('deploy-status').getAttribute('data-outcome'); }, { timeout: 300_000 }).toBe('done');
  await expectDisabledExplained(page, 'after a deployment check');
  // The estimate is a range with its assumptions, not the roofline's microseconds (docs/perf-model.md §5).
  const nash = page.locator('[data-testid="deploy-perf-row"][data-march="nash-m"]');
  expect(Number(await nash.getAttribute('data-latency-ms'))).toBeLessThan(0.01); // the roofline alone
  const [lo, hi] = [Number(await nash.getAttribute('data-latency-low')), Number(await nash.getAttribute('data-latency-high'))];
  expect(lo).toBeGreaterThanOrEqual(0.05); // at least the assumed per-inference cost
  expect(hi).toBeGreaterThan(lo);
  expect(Number(await nash.getAttribute('data-fps-high'))).toBeCloseTo(1000 / lo, 3);
  expect(Number(await nash.getAttribute('data-fps-high'))).toBeLessThan(20_000);
  await expect(nash).not.toContainText('724');
  await expect(page.getByTestId('deploy-perf-assumptions')).toContainText('each is an assumption (docs/perf-model.md §5)');
  const parts = page.getByTestId('deploy-perf-part');
  await expect(parts).toHaveCount(5);
  await expect(page.getByTestId('deploy-perf-parts')).toContainText('DDR latency');
  await expect(page.getByTestId('deploy-perf-parts')).toContainText('Input / output transfer');
  // The parts add up to the model's own march's range.
  const own = page.locator('[data-testid="deploy-perf-row"].own');
  const sums = await parts.evaluateAll((ps) => [0, 1].map((i) => ps.reduce((s, p) => s + Number(p.getAttribute(i ? 'data-high' : 'data-low')), 0)));
  expect(sums[0]).toBeCloseTo(Number(await own.getAttribute('data-latency-low')), 9);
  expect(sums[1]).toBeCloseTo(Number(await own.getAttribute('data-latency-high')), 9);
  await shoot(page, testInfo, 'panel-deploy', 'deploy-perf-range');
  // Per image: the simulator's confusion matrix over the 32 images, its diagonal its accuracy; the float model's too.
  await expect(page.getByTestId('confusion-matrix')).toHaveAttribute('data-total', '32');
  const correct = Number(await page.getByTestId('confusion-matrix').getAttribute('data-correct'));
  expect((100 * correct) / 32).toBeCloseTo(Number(await page.getByTestId('deploy-acc-int').getAttribute('data-acc1')), 6);
  await page.getByTestId('confusion-source').selectOption('float');
  await expect(page.getByTestId('confusion-matrix')).toHaveAttribute('data-total', '32');
  const disagree = Number(await page.getByTestId('disagree-summary').getAttribute('data-count'));
  await expect(page.getByTestId('disagree-tile')).toHaveCount(Math.min(disagree, 48));
  await shoot(page, testInfo, 'predictions', 'deploy-confusion-disagreements');
  await expect(rows).toHaveCount(4);
  await expect(rows.nth(2)).toHaveAttribute('data-kind', 'qat');
  await expect(rows.nth(3)).toHaveAttribute('data-kind', 'deploy');
  // A calibration against the QAT run: both histograms of a site overlaid, each with its own clip range (QAT's scales).
  await rows.nth(0).getByTestId('run-compare-a').check();
  await rows.nth(2).getByTestId('run-compare-b').check();
  await expect(cmp).toHaveAttribute('data-b', (await rows.nth(2).getAttribute('data-id'))!);
  await expect(overlay.locator('path.outline')).toHaveCount(2);
  await expect(page.getByTestId('compare-layers')).toHaveAttribute('data-metric', 'scale');
  await shoot(page, testInfo, 'panel-runs', 'runs-compare-calib-qat');
  // Against the deployment check: per layer by the scales of the model it converted.
  await rows.nth(3).getByTestId('run-compare-b').check();
  await expect(page.getByTestId('compare-layers')).toHaveAttribute('data-metric', 'scale');
  expect(Number(await page.getByTestId('compare-layers').getAttribute('data-rows'))).toBeGreaterThan(3);
  await expect(page.getByTestId('compare-no-histograms')).toBeVisible();
  await rows.nth(1).getByTestId('run-compare-b').check(); // back to the two calibrations

  // Rename the first, delete the second.
  const savedBefore = Number(await page.getByTestId('project-status').getAttribute('data-saved-at') || 0);
  const name = rows.nth(0).getByTestId('run-name');
  await name.fill('minmax baseline');
  await name.press('Enter');
  await expect(cmp).toContainText('A: minmax baseline');
  await rows.nth(1).getByTestId('run-delete').click();
  await expect(rows).toHaveCount(3);
  await expect(page.getByTestId('run-compare')).toHaveCount(0); // B was the deleted run
  await expect(page.getByTestId('compare-hint')).toBeVisible();

  // Every panel at 1280x800 and 1920x1080, kept as artifacts.
  for (const [w, h] of [[1280, 800], [1920, 1080]]) {
    await page.setViewportSize({ width: w, height: h });
    for (const id of ['panel-model', 'panel-data', 'step-train', 'panel-quantize', 'panel-graph', 'panel-deploy', 'panel-analysis', 'panel-runs']) {
      const path = testInfo.outputPath(`${id}-${w}x${h}.png`);
      await (id === 'step-train' ? page.locator('#step-train') : page.getByTestId(id)).screenshot({ path });
      await testInfo.attach(`${id}-${w}x${h}`, { path, contentType: 'image/png' });
    }
  }

  // The history is saved with the project.
  await waitSaved(page, savedBefore);
  await page.reload();
  await expect(page.getByTestId('project-status')).toHaveAttribute('data-status', 'ready');
  await expect(page.getByTestId('data-status')).toHaveAttribute('data-status', 'ready');
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(0).getByTestId('run-name')).toHaveValue('minmax baseline');
  expect(errors).toEqual([]);
});
