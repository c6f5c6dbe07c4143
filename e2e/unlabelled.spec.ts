/**
 * Calibration and QAT without labels in the page: an imported ONNX model (the PyTorch-trained Fashion-MNIST CNN of
 * tests/fixtures/onnx) and a dropped .zip of PNG images without class folders. The data shows as unlabelled, Train is
 * blocked with the reason, Evaluate keeps the model's own weights (no accuracy), calibration reports the output
 * similarity to the float model, QAT distills (forced on without labels) with progress, the loss curve and the
 * per-epoch similarity, then the deployment check compares the simulator with the QAT model. Waits on app state only.
 */
import { mkdtempSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { failOnError, openStudio, shoot } from './helpers/studio.ts';
import { greyPng, zipOf } from './helpers/files.ts';

const FIXTURES = new URL('../tests/fixtures/onnx/', import.meta.url);

/** 40 grey 28x28 images (a slanted bar and a texture, different per image), all at the top of the zip: no classes. */
function unlabelledImages(): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (let i = 0; i < 40; i++) {
    out[`img${String(i).padStart(2, '0')}.png`] = greyPng(28, 28, (x, y) => (Math.abs(x - y * ((i % 5) + 1) / 3 - (i % 7)) < 3 ? 230 : (x * 5 + y * 3 + i * 11) % 60));
  }
  return out;
}

test('unlabelled images: evaluate the imported model, calibrate, distill, deploy-check', async ({ page }, testInfo) => {
  const errors = await openStudio(page);
  const dir = mkdtempSync(join(tmpdir(), 'qs-e2e-unlabelled-'));
  await page.getByTestId('model-onnx-input').setInputFiles(new URL('fashion_cnn.onnx', FIXTURES).pathname);
  await expect(page.getByTestId('model-status')).toHaveText('Imported: fashion_cnn.onnx');

  await writeFile(join(dir, 'street.zip'), zipOf(unlabelledImages()));
  await page.getByTestId('data-file-input').setInputFiles(join(dir, 'street.zip'));
  await expect(page.getByTestId('data-status')).toHaveText('Loaded: street.zip');
  await expect(page.getByTestId('data-status')).toHaveAttribute('data-status', 'ready');
  await expect(page.getByTestId('data-classes')).toHaveAttribute('data-labelled', 'no');
  await expect(page.getByTestId('data-counts')).toHaveText('32 / 8');
  await expect(page.getByTestId('data-split')).toContainText('no class folders');
  await expect(page.getByTestId('class-counts')).toHaveCount(0);
  await shoot(page, testInfo, 'panel-data', 'unlabelled-data');

  // Training needs labels: blocked, with the reason. Evaluate keeps the imported weights as the float model.
  for (const [k, v] of Object.entries({ trainImages: 32, testImages: 8, batchSize: 8, epochs: 1 })) await page.getByTestId(`setting-${k}`).fill(String(v));
  await expect(page.getByTestId('train-button')).toBeDisabled();
  await expect(page.getByTestId('train-button')).toHaveAttribute('title', /Training needs labels/);
  await page.getByTestId('evaluate-button').click();
  await expect.poll(async () => { await failOnError(page, 'run-error', 'evaluation'); return page.getByTestId('run-status').getAttribute('data-outcome'); }).toBe('done');

  // Calibration: the output similarity to the float model on the 8 held-out images, no accuracy.
  await page.getByTestId('quant-calib-batches').fill('4');
  await page.getByTestId('quant-calib-batch-size').fill('8');
  await page.getByTestId('calibrate-button').click();
  const status = page.getByTestId('quant-status');
  await expect.poll(async () => { await failOnError(page, 'quant-error', 'calibration'); return status.getAttribute('data-outcome'); }).toBe('done');
  await expect(page.getByTestId('accuracy-table')).toHaveAttribute('data-labelled', 'no');
  await expect(page.getByTestId('acc-calib')).toContainText('no labels');
  const calibSqnr = Number(await page.getByTestId('acc-calib').getAttribute('data-sqnr'));
  const calibCos = Number(await page.getByTestId('acc-calib').getAttribute('data-cosine'));
  expect(calibSqnr).toBeGreaterThan(5);
  expect(calibCos).toBeGreaterThan(0.9);

  // QAT distills (forced without labels): 2 epochs of 32 images in batches of 8.
  await expect(page.getByTestId('quant-distill')).toBeChecked();
  await expect(page.getByTestId('quant-distill')).toBeDisabled();
  await expect(page.getByTestId('quant-distill-why')).toBeVisible();
  await page.getByTestId('quant-feature-weight').fill('0.5');
  await page.getByTestId('quant-qat-epochs').fill('2');
  await page.getByTestId('quant-qat-images').fill('32');
  await page.getByTestId('quant-qat-lr').fill('0.0001');
  await page.getByTestId('qat-button').click();
  await expect(status).toHaveAttribute('data-stage', 'qat');
  await expect.poll(async () => { await failOnError(page, 'quant-error', 'QAT'); return status.getAttribute('data-outcome'); }).toBe('done');
  await expect(page.getByTestId('quant-progress')).toHaveAttribute('data-done', '8');
  await expect(page.getByTestId('qat-chart')).toHaveAttribute('data-loss-points', '8');
  await expect(page.getByTestId('qat-similarity')).toHaveAttribute('data-epochs', '2');
  const qatSqnr = Number(await page.getByTestId('acc-qat').getAttribute('data-sqnr'));
  expect(qatSqnr).toBeGreaterThan(5);
  const figures = `fashion_cnn.onnx on 40 unlabelled PNGs (8 held out): output SQNR vs float after calibration ${calibSqnr.toFixed(2)} dB, after 2 epochs of distillation QAT ${qatSqnr.toFixed(2)} dB`;
  console.log(figures);
  await testInfo.attach('sqnr.txt', { body: figures });
  await shoot(page, testInfo, 'panel-quantize', 'unlabelled-quantize');

  // The deployment check: simulator vs the QAT model on the held-out images; no accuracy, no confusion matrix.
  await page.getByTestId('deploy-images').fill('8');
  await page.getByTestId('deploy-batch-size').fill('8');
  await page.getByTestId('deploy-run-button').click();
  await expect.poll(async () => { await failOnError(page, 'deploy-error', 'deployment check'); return page.getByTestId('deploy-status').getAttribute('data-outcome'); }).toBe('done');
  await expect(page.getByTestId('deploy-agreement')).toHaveAttribute('data-images', '8');
  expect(Number(await page.getByTestId('deploy-agreement').getAttribute('data-agreement'))).toBeGreaterThanOrEqual(50);
  await expect(page.getByTestId('deploy-acc-int')).toContainText('no labels');
  await expect(page.getByTestId('deploy-layer-row').first()).toBeAttached();
  await expect(page.getByTestId('predictions-unlabelled')).toBeVisible();
  await shoot(page, testInfo, 'panel-deploy', 'unlabelled-deploy');
  expect(errors).toEqual([]);
});
