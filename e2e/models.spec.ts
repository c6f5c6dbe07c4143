/**
 * Models that are not classifiers, in the page (issue 14), each on a small set of unlabelled colour PNGs:
 *  - the ViT encoder (tests/fixtures/onnx/vit_tiny.onnx) from a dropped folder, on march bayes, where layer norm,
 *    softmax and the matmul of two activations have no integer layer: the viewer draws those float islands dashed
 *    with DeQuant / Quant on their boundary edges, the deployment check lists the same islands;
 *  - the FPN-style neck with three outputs (fpn.onnx) and the UNet-style encoder-decoder (unet.onnx), from a zip.
 * Each: import, evaluate (the float teacher), calibrate, 1 short epoch of distillation QAT, deployment check with
 * every output's cosine, SQNR and max |diff| in LSB. Waits on app state only.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { failOnError, openStudio, shoot } from './helpers/studio.ts';
import { zipOf } from './helpers/files.ts';
import { wavePng } from '../scripts/unlabelled-images.ts';

const FIXTURES = new URL('../tests/fixtures/onnx/', import.meta.url);

/** `count` unlabelled size x size colour PNGs, as a folder (returned path) or, with `zip`, one .zip. */
function unlabelled(count: number, size: number, zip: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'qs-e2e-models-'));
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < count; i++) files[`frame${String(i).padStart(2, '0')}.png`] = Buffer.from(wavePng(i, size));
  if (zip) {
    writeFileSync(join(dir, 'frames.zip'), zipOf(files));
    return join(dir, 'frames.zip');
  }
  mkdirSync(join(dir, 'frames'));
  for (const [name, b] of Object.entries(files)) writeFileSync(join(dir, 'frames', name), b);
  return join(dir, 'frames');
}

async function importModel(page: Page, file: string): Promise<void> {
  await page.getByTestId('model-onnx-input').setInputFiles(new URL(file, FIXTURES).pathname);
  await expect(page.getByTestId('model-status')).toHaveText(`Imported: ${file}`);
}

async function loadData(page: Page, path: string, folder: boolean): Promise<void> {
  await page.getByTestId(folder ? 'data-folder-input' : 'data-file-input').setInputFiles(path);
  await expect(page.getByTestId('data-status')).toHaveText('Loaded: frames' + (folder ? '' : '.zip'));
  await expect(page.getByTestId('data-status')).toHaveAttribute('data-status', 'ready');
  await expect(page.getByTestId('data-classes')).toHaveAttribute('data-labelled', 'no');
}

/** Per-output rows of a table as {output: {cosine, sqnr, lsb}}. */
async function rows(page: Page, sel: string): Promise<Record<string, { cosine: number; sqnr: number; lsb: number }>> {
  const got = await page.locator(sel).evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-output')!,
    Number(tr.getAttribute('data-cosine')), Number(tr.getAttribute('data-sqnr')), Number(tr.getAttribute('data-max-lsb'))] as const));
  return Object.fromEntries(got.map(([o, cosine, sqnr, lsb]) => [o, { cosine, sqnr, lsb }]));
}

/**
 * Evaluate, calibrate, distill 1 epoch, deployment check; every output compared. 16 training and 8 held-out images
 * (of 24), batches of 8. Returns the deployment check's per-output rows.
 */
async function quantizeFlow(page: Page, testInfo: TestInfo, name: string, outputs: string[]) {
  for (const [k, v] of Object.entries({ trainImages: 16, testImages: 8, batchSize: 8, epochs: 1 })) await page.getByTestId(`setting-${k}`).fill(String(v));
  await page.getByTestId('evaluate-button').click();
  await expect.poll(async () => { await failOnError(page, 'run-error', 'evaluation'); return page.getByTestId('run-status').getAttribute('data-outcome'); }).toBe('done');

  const status = page.getByTestId('quant-status');
  await page.getByTestId('quant-calib-batches').fill('2');
  await page.getByTestId('quant-calib-batch-size').fill('8');
  await page.getByTestId('calibrate-button').click();
  await expect.poll(async () => { await failOnError(page, 'quant-error', 'calibration'); return status.getAttribute('data-outcome'); }).toBe('done');

  await expect(page.getByTestId('quant-distill')).toBeChecked();
  await page.getByTestId('quant-qat-epochs').fill('1');
  await page.getByTestId('quant-qat-images').fill('16');
  await page.getByTestId('quant-qat-lr').fill('0.0001');
  await page.getByTestId('qat-button').click();
  await expect(status).toHaveAttribute('data-stage', 'qat');
  await expect.poll(async () => { await failOnError(page, 'quant-error', 'QAT'); return status.getAttribute('data-outcome'); }).toBe('done');
  if (outputs.length > 1) {
    // the per-output similarity of the QAT model to the float teacher
    await expect(page.locator('[data-testid="output-similarity-row"][data-stage="qat"]')).toHaveCount(outputs.length);
  }

  await page.getByTestId('deploy-images').fill('8');
  await page.getByTestId('deploy-batch-size').fill('8');
  await page.getByTestId('deploy-run-button').click();
  await expect.poll(async () => { await failOnError(page, 'deploy-error', 'deployment check'); return page.getByTestId('deploy-status').getAttribute('data-outcome'); }).toBe('done');
  await expect(page.getByTestId('deploy-outputs')).toHaveAttribute('data-count', String(outputs.length));
  const dep = await rows(page, '[data-testid="deploy-output-row"]');
  expect(Object.keys(dep)).toEqual(outputs);
  for (const o of Object.values(dep)) {
    expect(o.cosine).toBeGreaterThan(0.99);
    expect(o.sqnr).toBeGreaterThan(20);
    expect(Number.isFinite(o.lsb)).toBe(true);
  }
  const line = Object.entries(dep).map(([k, o]) => `${k} cosine ${o.cosine.toFixed(6)}, SQNR ${o.sqnr.toFixed(1)} dB, max ${o.lsb.toFixed(1)} LSB`).join('; ');
  console.log(`${name}, deployment check, simulator vs QAT: ${line}`);
  await shoot(page, testInfo, 'panel-deploy', `${name}-deploy`);
  return dep;
}

test('ViT on bayes: float islands dashed with their DeQuant/Quant boundaries, calibrate, distill, deploy-check', async ({ page }, testInfo) => {
  const errors = await openStudio(page);
  await importModel(page, 'vit_tiny.onnx');
  await page.getByTestId('quant-march').selectOption('bayes');

  // The viewer: layer norm, softmax and the matmul of two activations are islands on bayes, drawn dashed.
  await page.getByTestId('panel-graph').scrollIntoViewIfNeeded();
  await page.getByTestId('graph-expand-all').click(); // the attention blocks are module groups
  await page.getByTestId('graph-fit').click(); // only the nodes in view are drawn
  const svg = page.getByTestId('graph-svg');
  const islands = svg.locator('g.node[data-float-island]');
  await expect.poll(async () => [...new Set(await islands.evaluateAll((gs) => gs.map((g) => g.getAttribute('data-op'))))].sort()).toEqual(['layernorm', 'matmul', 'softmax']);
  const drawn = await islands.evaluateAll((gs) => gs.map((g) => ({
    id: g.getAttribute('data-id')!, op: g.getAttribute('data-op')!,
    dash: getComputedStyle(g.querySelector('rect')!).strokeDasharray,
  })));
  for (const d of drawn) expect(d.dash, `${d.id} drawn dashed`).not.toBe('none');
  // integer nodes are drawn solid
  const solid = await svg.locator('g.node[data-op="linear"]').first().evaluate((g) => getComputedStyle(g.querySelector('rect')!).strokeDasharray);
  expect(solid).toBe('none');
  // every island's incoming edge from an integer node is a DeQuant, its outgoing edge to one a Quant
  const labels = await svg.locator('text.edge-label').evaluateAll((ts) => ts.map((t) => [t.getAttribute('data-from')!, t.getAttribute('data-to')!, t.textContent!] as const));
  const ids = new Set(drawn.map((d) => d.id));
  const into = labels.filter(([f, t]) => ids.has(t) && !ids.has(f)), outOf = labels.filter(([f, t]) => ids.has(f) && !ids.has(t));
  expect(into.length).toBeGreaterThan(0);
  expect(outOf.length).toBeGreaterThan(0);
  for (const [, , text] of into) expect(text).toMatch(/^DeQuant/);
  for (const [, , text] of outOf) expect(text).toMatch(/^Quant/);
  await shoot(page, testInfo, 'panel-graph', 'vit-islands');

  await loadData(page, unlabelled(24, 16, false), true);
  await quantizeFlow(page, testInfo, 'vit_tiny.onnx', ['logits']);
  // the deployment check lists the islands the viewer draws (the fused graph's: the same op kinds)
  const listed = await page.locator('[data-testid="deploy-float-islands"] li').evaluateAll((lis) => lis.map((li) => li.textContent!));
  expect(listed.length).toBeGreaterThan(0);
  for (const op of ['layernorm', 'softmax', 'matmul']) expect(listed.some((t) => t.includes(`(${op})`)), `${op} listed`).toBe(true);
  await expect(page.getByTestId('deploy-float-islands')).toContainText('bayes');
  expect(errors).toEqual([]);
});

test('FPN neck (3 outputs): calibrate, distill, deploy-check every output; the analysis over the 3 outputs', async ({ page }, testInfo) => {
  const errors = await openStudio(page);
  await importModel(page, 'fpn.onnx');
  await loadData(page, unlabelled(24, 32, true), false);
  await quantizeFlow(page, testInfo, 'fpn.onnx', ['p2', 'p3', 'p4']);

  // Precision analysis, float vs calibrated, on the 8 held-out images: distances over the three outputs, no top-1 or
  // accuracy (no labels, no class scores); sensitivity of every site by the distance only.
  await page.getByTestId('analysis-compare').selectOption('float-calib');
  for (const [k, v] of Object.entries({ images: 8, 'bad-cases': 4, 'batch-size': 8, 'calib-images': 8 })) await page.getByTestId(`analysis-${k}`).fill(String(v));
  await page.getByTestId('analysis-metric').selectOption('cosine');
  await page.getByTestId('analysis-mixed').uncheck();
  await page.getByTestId('analysis-run-button').click();
  const analysisStatus = page.getByTestId('analysis-status');
  await expect.poll(async () => { await failOnError(page, 'analysis-error', 'analysis'); return analysisStatus.getAttribute('data-outcome'); }).toBe('done');
  await expect(page.getByTestId('analysis-outputs')).toHaveAttribute('data-count', '3');
  await expect(page.getByTestId('analysis-agreement')).toHaveAttribute('data-top1', 'no');
  await expect(page.getByTestId('analysis-agreement')).toHaveAttribute('data-acc', 'no');
  await expect(page.getByTestId('analysis-bad-case')).toHaveCount(4);
  await expect(page.getByTestId('analysis-layer-row').first()).toBeAttached();
  await expect(page.getByTestId('analysis-sensitivity-table')).toHaveAttribute('data-acc', 'no');
  await expect(page.getByTestId('analysis-sensitivity-table').locator('thead th')).toHaveCount(5);
  expect(await page.getByTestId('analysis-sensitivity-row').count()).toBeGreaterThan(3);
  await shoot(page, testInfo, 'panel-analysis', 'fpn-analysis');
  expect(errors).toEqual([]);
});

test('UNet encoder-decoder: calibrate, distill, deploy-check the mask output', async ({ page }, testInfo) => {
  const errors = await openStudio(page);
  await importModel(page, 'unet.onnx');
  await loadData(page, unlabelled(24, 32, true), false);
  await quantizeFlow(page, testInfo, 'unet.onnx', ['logits']);
  expect(errors).toEqual([]);
});
