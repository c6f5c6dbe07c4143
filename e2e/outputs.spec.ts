/**
 * A model with several outputs in the page (issue 14): the YOLO-style block exported by PyTorch
 * (tests/fixtures/onnx/yolo_block.onnx: boxes [4, 8, 8] straight from a conv, scores [3, 8, 8] after a sigmoid) and a
 * dropped .zip of unlabelled 32x32 colour PNGs. The graph shows and labels both outputs; calibration and distillation
 * QAT report the output similarity to the float model per output; the deployment check compares both outputs of the
 * simulator with the QAT model (the box output an int32 high-precision output). Waits on app state only.
 */
import { mkdtempSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { failOnError, openStudio, shoot } from './helpers/studio.ts';
import { zipOf } from './helpers/files.ts';
import { wavePng } from '../scripts/unlabelled-images.ts';

const FIXTURES = new URL('../tests/fixtures/onnx/', import.meta.url);

/** Per-output rows of a table as {output: [cosine, sqnr]}. */
async function rows(page: Page, testId: string, stage?: string): Promise<Record<string, { cosine: number; sqnr: number }>> {
  const sel = stage ? `[data-testid="${testId}"][data-stage="${stage}"]` : `[data-testid="${testId}"]`;
  const got = await page.locator(sel).evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-output')!, Number(tr.getAttribute('data-cosine')), Number(tr.getAttribute('data-sqnr'))] as const));
  return Object.fromEntries(got.map(([o, cosine, sqnr]) => [o, { cosine, sqnr }]));
}

test('several outputs: the YOLO-style block on unlabelled images, calibrate, distill, deploy-check per output', async ({ page }, testInfo) => {
  const errors = await openStudio(page);
  const dir = mkdtempSync(join(tmpdir(), 'qs-e2e-outputs-'));
  await page.getByTestId('model-onnx-input').setInputFiles(new URL('yolo_block.onnx', FIXTURES).pathname);
  await expect(page.getByTestId('model-status')).toHaveText('Imported: yolo_block.onnx');

  // The graph shows both outputs, labelled with their names.
  const svg = page.getByTestId('graph-svg');
  await page.getByTestId('panel-graph').scrollIntoViewIfNeeded();
  await page.getByTestId('graph-fit').click(); // only the nodes in view are drawn
  await expect(svg.locator('g.node[data-output]')).toHaveCount(2);
  expect(await svg.locator('g.node[data-output]').evaluateAll((gs) => gs.map((g) => [g.getAttribute('data-output'), g.querySelector('text.op')!.textContent]).sort()))
    .toEqual([['boxes', 'output boxes'], ['scores', 'output scores']]);

  const images: Record<string, Buffer> = {};
  for (let i = 0; i < 24; i++) images[`frame${String(i).padStart(2, '0')}.png`] = Buffer.from(wavePng(i, 32));
  await writeFile(join(dir, 'frames.zip'), zipOf(images));
  await page.getByTestId('data-file-input').setInputFiles(join(dir, 'frames.zip'));
  await expect(page.getByTestId('data-status')).toHaveText('Loaded: frames.zip');
  await expect(page.getByTestId('data-status')).toHaveAttribute('data-status', 'ready');
  await expect(page.getByTestId('data-classes')).toHaveAttribute('data-labelled', 'no');

  // Evaluate keeps the imported weights as the float model (the teacher of distillation).
  for (const [k, v] of Object.entries({ trainImages: 16, testImages: 8, batchSize: 8, epochs: 1 })) await page.getByTestId(`setting-${k}`).fill(String(v));
  await page.getByTestId('evaluate-button').click();
  await expect.poll(async () => { await failOnError(page, 'run-error', 'evaluation'); return page.getByTestId('run-status').getAttribute('data-outcome'); }).toBe('done');

  // Calibration: similarity to the float model of each output.
  await page.getByTestId('quant-calib-batches').fill('2');
  await page.getByTestId('quant-calib-batch-size').fill('8');
  await page.getByTestId('calibrate-button').click();
  const status = page.getByTestId('quant-status');
  await expect.poll(async () => { await failOnError(page, 'quant-error', 'calibration'); return status.getAttribute('data-outcome'); }).toBe('done');
  await expect(page.locator('[data-testid="output-similarity-row"][data-stage="calib"]')).toHaveCount(2);
  const calib = await rows(page, 'output-similarity-row', 'calib');
  expect(Object.keys(calib).sort()).toEqual(['boxes', 'scores']);
  for (const o of Object.values(calib)) expect(o.cosine).toBeGreaterThan(0.9);

  // Distillation QAT (forced without labels): 1 epoch of 16 images in batches of 8; the loss sums both outputs.
  await expect(page.getByTestId('quant-distill')).toBeChecked();
  await page.getByTestId('quant-qat-epochs').fill('1');
  await page.getByTestId('quant-qat-images').fill('16');
  await page.getByTestId('quant-qat-lr').fill('0.0001');
  await page.getByTestId('qat-button').click();
  await expect(status).toHaveAttribute('data-stage', 'qat');
  await expect.poll(async () => { await failOnError(page, 'quant-error', 'QAT'); return status.getAttribute('data-outcome'); }).toBe('done');
  await expect(page.locator('[data-testid="output-similarity-row"][data-stage="qat"]')).toHaveCount(2);
  const qat = await rows(page, 'output-similarity-row', 'qat');
  const figures = Object.keys(calib).map((k) => `${k}: SQNR vs float after calibration ${calib[k].sqnr.toFixed(2)} dB, after 1 epoch of distillation QAT ${qat[k].sqnr.toFixed(2)} dB`).join('; ');
  console.log(`yolo_block.onnx on 24 unlabelled PNGs (5 held out): ${figures}`);
  await testInfo.attach('sqnr.txt', { body: figures });
  for (const o of Object.values(qat)) expect(o.cosine).toBeGreaterThan(0.9);
  await shoot(page, testInfo, 'panel-quantize', 'outputs-quantize');

  // The deployment check compares both outputs.
  await page.getByTestId('deploy-images').fill('5'); // the test split: 5 of the 24 images
  await page.getByTestId('deploy-batch-size').fill('8');
  await page.getByTestId('deploy-run-button').click();
  await expect.poll(async () => { await failOnError(page, 'deploy-error', 'deployment check'); return page.getByTestId('deploy-status').getAttribute('data-outcome'); }).toBe('done');
  await expect(page.getByTestId('deploy-outputs')).toHaveAttribute('data-count', '2');
  // boxes and scores are not class scores: no top-1 agreement headline, the per-output table instead
  await expect(page.getByTestId('deploy-agreement')).toHaveAttribute('data-agreement', '');
  await expect(page.getByTestId('deploy-agreement')).toContainText('not class');
  const outs = page.getByTestId('deploy-output-row');
  await expect(outs).toHaveCount(2);
  expect(await outs.evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-output'), tr.children[1].textContent, tr.children[2].textContent, tr.getAttribute('data-top1')])))
    .toEqual([['boxes', '4×8×8', 'int32', ''], ['scores', '3×8×8', 'int16', '']]);
  const dep = await rows(page, 'deploy-output-row');
  for (const o of Object.values(dep)) expect(o.cosine).toBeGreaterThan(0.99);
  console.log(`deployment check, simulator vs QAT: ${Object.entries(dep).map(([k, o]) => `${k} cosine ${o.cosine.toFixed(6)}, SQNR ${o.sqnr.toFixed(1)} dB`).join('; ')}`);
  await expect(page.getByTestId('deploy-layer-row').first()).toBeAttached();
  await shoot(page, testInfo, 'panel-deploy', 'outputs-deploy');
  expect(errors).toEqual([]);
});
