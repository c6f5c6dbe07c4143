/**
 * The Analyze panel on small data, in Chromium with WebGPU on SwiftShader: a tiny float model and calibration, then
 * the analysis on 24 test images: bad cases drawn with their images, the layer table and depth curve, the graph
 * coloured by the analysis, the sensitivity ranking (every site) with "int16 for the top K sites" re-evaluated, the
 * mixed-precision curve (k = 0…all); cancel stops a run; the result survives a reload, and a new calibration drops it
 * (it belonged to the old model). Waits are on app state only.
 */
import { expect, test } from '@playwright/test';
import { failOnError, openStudio, shoot, waitSaved } from './helpers/studio.ts';

const LONG = 1_200_000;

test('analysis: bad cases, layers, sensitivity with int16 for top K, mixed precision, cancel, result bound to its model', async ({ page }, testInfo) => {
  // Software WebGPU on a shared 2-core machine: the sensitivity pass alone runs 2 + 2 x 10 forward passes.
  test.setTimeout(1_500_000);
  const errors = await openStudio(page);
  for (const [k, v] of Object.entries({ trainImages: 256, testImages: 64, batchSize: 32, epochs: 1 })) await page.getByTestId(`setting-${k}`).fill(String(v));
  await page.getByTestId('train-button').click();
  await expect.poll(async () => { await failOnError(page, 'run-error', 'training'); return page.getByTestId('run-status').getAttribute('data-outcome'); }).toBe('done');

  const analysisStatus = page.getByTestId('analysis-status');
  await expect(analysisStatus).toContainText('Calibrate first');
  await expect(page.getByTestId('analysis-run-button')).toBeDisabled();

  const calibrate = async (observer = 'minmax') => {
    await page.getByTestId('quant-calib-batches').fill('2');
    await page.getByTestId('quant-calib-batch-size').fill('32');
    await page.getByTestId('quant-observer').selectOption(observer);
    await page.getByTestId('calibrate-button').click();
    await expect.poll(async () => { await failOnError(page, 'quant-error', 'calibration'); return page.getByTestId('quant-status').getAttribute('data-outcome'); }).toBe('done');
  };
  await calibrate();

  for (const [k, v] of Object.entries({ images: 24, 'bad-cases': 6, 'batch-size': 24, 'calib-images': 24 })) await page.getByTestId(`analysis-${k}`).fill(String(v));
  await page.getByTestId('analysis-metric').selectOption('kl');
  await page.getByTestId('analysis-run-button').click();
  await expect.poll(async () => { await failOnError(page, 'analysis-error', 'analysis'); return analysisStatus.getAttribute('data-outcome'); }, { timeout: LONG }).toBe('done');

  const results = page.getByTestId('analysis-results');
  await expect(results).toHaveAttribute('data-model', 'cnn-small');
  await expect(results).toHaveAttribute('data-checkpoint', 'calib');
  // Bad cases: 6, each with its image drawn, disagreements first.
  const cases = page.getByTestId('analysis-bad-case');
  await expect(cases).toHaveCount(6);
  await expect(cases.first().locator('canvas')).toHaveAttribute('width', '28');
  const flags = await cases.evaluateAll((els) => els.map((e) => e.getAttribute('data-disagree') === 'true'));
  expect(flags).toEqual([...flags].sort((a, b) => Number(b) - Number(a)));
  // Layers: the 6 activation sites of cnn-small and its int32 output (fc), in depth order, and the curve.
  await expect(page.getByTestId('analysis-layer-row')).toHaveCount(7);
  await expect(page.getByTestId('analysis-depth-chart')).toHaveAttribute('data-points', /[1-7]/);
  // A layer row selects its node and colours the graph by the analysis.
  await page.getByTestId('analysis-layer-row').filter({ hasText: 'block2.conv' }).click();
  await expect(page.getByTestId('graph-color-by')).toHaveValue('analysisSqnr');
  await expect(page.getByTestId('graph-legend')).toHaveAttribute('data-mode', 'analysisSqnr');
  await expect(page.getByTestId('legend-no-overlay')).toHaveCount(0);
  // Sensitivity: every site (6 activation + 4 weight), and the mixed-precision curve has k = 0…10.
  await expect(page.getByTestId('analysis-sensitivity-row')).toHaveCount(10);
  await expect(page.getByTestId('analysis-mixed-chart')).toHaveAttribute('data-points', '11');
  await expect(page.getByTestId('analysis-weight-row')).toHaveCount(4);
  await shoot(page, testInfo, 'panel-analysis', 'panel-analysis');

  // int16 for the top 2 sites: recalibrated and evaluated on the same images.
  await page.getByTestId('analysis-top-k').fill('2');
  await page.getByTestId('analysis-int16-button').click();
  await expect.poll(async () => { await failOnError(page, 'analysis-error', 'int16 check'); return analysisStatus.getAttribute('data-outcome'); }, { timeout: LONG }).toBe('done');
  const int16 = page.getByTestId('analysis-int16-result');
  await expect(int16).toBeVisible();
  const top = await page.getByTestId('analysis-sensitivity-row').first().getAttribute('data-site');
  await expect(int16).toContainText(top ?? '?');
  expect(Number(await int16.getAttribute('data-after'))).toBeGreaterThanOrEqual(0);

  // Cancel: a bigger run stops part-way.
  await page.getByTestId('analysis-images').fill('2000');
  await page.getByTestId('analysis-run-button').click();
  await expect.poll(async () => Number(await page.getByTestId('analysis-progress').getAttribute('aria-valuenow'))).toBeGreaterThan(0);
  await page.getByTestId('analysis-cancel-button').click();
  await expect(analysisStatus).toHaveAttribute('data-outcome', 'cancelled');
  await expect(analysisStatus).toHaveAttribute('data-status', 'idle');
  await expect(results).toHaveCount(0);

  // A finished result belongs to its calibration: a new calibration drops it.
  await page.getByTestId('analysis-images').fill('32');
  await page.getByTestId('analysis-sensitivity').uncheck();
  await page.getByTestId('analysis-run-button').click();
  await expect.poll(async () => { await failOnError(page, 'analysis-error', 'analysis'); return analysisStatus.getAttribute('data-outcome'); }, { timeout: LONG }).toBe('done');
  await expect(results).toBeVisible();
  await expect(page.getByTestId('analysis-sensitivity-row')).toHaveCount(0);
  // It is kept with the project: a reload shows it again, still bound to the same calibration.
  await waitSaved(page, 0);
  await page.reload();
  await expect(page.getByTestId('project-status')).toHaveAttribute('data-status', 'ready');
  await expect(page.getByTestId('data-status')).toHaveAttribute('data-status', 'ready');
  await expect(results).toBeVisible();
  await expect(page.getByTestId('analysis-bad-case')).toHaveCount(6);
  // (another observer: the same settings reproduce the same calibration bit for bit, which keeps the result valid)
  await calibrate('moving_average_minmax');
  await expect(results).toHaveCount(0);
  expect(errors).toEqual([]);
});
