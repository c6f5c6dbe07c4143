/**
 * The whole workflow on a small subset, in Chromium with WebGPU on SwiftShader: built-in data → short
 * float training → calibration → one QAT pass → the graph shows fused and quantized nodes → the
 * deployment check on 64 images reports agreement and the per-layer table (a row jumps to its node in
 * the graph) → the model file, the ONNX QDQ file and the PyTorch package download; the project survives a reload (and
 * takes the PyTorch package's QAT model back through "Import PyTorch QAT"); a
 * screenshot of each panel is attached. Waits are on app state only.
 */
import { readFile } from 'node:fs/promises';
import { unzipSync } from 'fflate';
import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { failOnError, openStudio, shoot, waitSaved } from './helpers/studio.ts';

/** Clicks `button`, waits for the download it starts, keeps it as an artifact and returns its bytes. */
async function download(page: Page, testInfo: TestInfo, testId: string): Promise<{ name: string; bytes: Buffer }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
  const path = testInfo.outputPath(dl.suggestedFilename());
  await dl.saveAs(path);
  await testInfo.attach(dl.suggestedFilename(), { path, contentType: 'application/octet-stream' });
  return { name: dl.suggestedFilename(), bytes: await readFile(path) };
}

test('built-in data → float → calibrate → QAT → graph → deploy, and a reload keeps the project', async ({ page }, testInfo) => {
  test.setTimeout(900_000); // training, calibration, QAT and a deployment check on SwiftShader, on a shared machine
  const errors = await openStudio(page);
  await expect(page.getByTestId('data-status')).toHaveAttribute('data-kind', 'builtin');
  await expect(page.getByTestId('data-counts')).toHaveText('60,000 / 10,000');
  await expect(page.getByTestId('data-preview')).toHaveAttribute('data-count', '24');
  await expect(page.getByTestId('quant-status')).toContainText('Train cnn-small on this data first');
  await expect(page.getByTestId('calibrate-button')).toBeDisabled();

  // Float training, tiny.
  for (const [k, v] of Object.entries({ trainImages: 256, testImages: 128, batchSize: 32, epochs: 1 })) await page.getByTestId(`setting-${k}`).fill(String(v));
  await page.getByTestId('train-button').click();
  await expect.poll(async () => { await failOnError(page, 'run-error', 'training'); return page.getByTestId('run-status').getAttribute('data-outcome'); }, { timeout: 300_000 }).toBe('done');
  await expect(page.getByTestId('acc-float')).not.toHaveAttribute('data-acc1', '');

  // Calibration: 2 batches of 32 on the loaded data.
  await page.getByTestId('quant-calib-batches').fill('2');
  await page.getByTestId('quant-calib-batch-size').fill('32');
  await page.getByTestId('quant-observer').selectOption('minmax');
  await expect(page.getByTestId('calibrate-button')).toBeEnabled();
  await page.getByTestId('calibrate-button').click();
  const status = page.getByTestId('quant-status');
  await expect.poll(async () => { await failOnError(page, 'quant-error', 'calibration'); return status.getAttribute('data-outcome'); }).toBe('done');
  await expect(status).toHaveAttribute('data-stage', 'calib');
  await expect(page.getByTestId('quant-progress')).toHaveAttribute('data-done', '2');
  await expect(page.getByTestId('acc-calib')).not.toHaveAttribute('data-acc1', '');
  await expect(page.getByTestId('histograms')).toBeVisible();
  await expect(page.getByTestId('act-histogram').locator('line.clip')).toHaveCount(2);
  await expect(page.getByTestId('act-histogram').locator('rect.bin').first()).toBeAttached();

  // One QAT pass: 128 images, batch 32 → 4 steps.
  await page.getByTestId('quant-qat-images').fill('128');
  await page.getByTestId('qat-button').click();
  await expect(status).toHaveAttribute('data-stage', 'qat');
  await expect.poll(async () => { await failOnError(page, 'quant-error', 'QAT'); return status.getAttribute('data-outcome'); }).toBe('done');
  await expect(page.getByTestId('acc-qat')).not.toHaveAttribute('data-acc1', '');
  await expect(page.getByTestId('qat-chart')).toHaveAttribute('data-loss-points', '4');
  await expect(page.getByTestId('qat-chart')).toHaveAttribute('data-acc-points', '1');

  // The graph: fused nodes, int8 activations, an int32 output, float outside the region.
  const svg = page.getByTestId('graph-svg');
  await expect(svg).toHaveAttribute('data-layout', 'ready');
  await expect(svg.locator('g.node[data-fused]').first()).toBeAttached();
  expect(await svg.locator('g.node[data-dtype="int8"]').count()).toBeGreaterThan(3);
  await expect(svg.locator('g.node[data-dtype="int32"]')).toHaveCount(1);
  await expect(svg.locator('g.node[data-dtype="float"]').first()).toBeAttached();
  const fusedNodes = Number(await svg.getAttribute('data-nodes'));
  await svg.locator('g.node[data-fused]').first().click();
  await expect(page.getByTestId('node-details')).toBeVisible();
  await expect(page.getByTestId('detail-fused')).toContainText('bn');
  await expect(page.getByTestId('detail-scale')).not.toHaveText('–');
  await expect(page.getByTestId('detail-weight-scales').locator('li').first()).toBeAttached();
  await page.getByTestId('graph-search').fill('fc');
  await expect(page.getByTestId('graph-search')).not.toHaveAttribute('data-matches', '0');
  await page.getByTestId('graph-fit').click();
  await page.getByTestId('graph-fused').uncheck();
  await expect.poll(async () => Number(await svg.getAttribute('data-nodes'))).toBeGreaterThan(fusedNodes);
  await expect(svg.locator('g.node[data-op="batchnorm2d"]').first()).toBeAttached();
  await page.getByTestId('graph-fused').check();
  await page.getByTestId('graph-color-by').selectOption('sqnr');
  await expect(page.getByTestId('legend-no-overlay')).toBeVisible();
  await page.getByTestId('graph-color-by').selectOption('dtype');

  // Deploy: the simulator (its own worker) against the QAT model on 64 test images, 2 batches.
  await expect(page.getByTestId('deploy-empty')).toHaveAttribute('data-reason', 'not-run');
  await page.getByTestId('deploy-images').fill('64');
  await page.getByTestId('deploy-batch-size').fill('32');
  await page.getByTestId('deploy-run-button').click();
  const deployStatus = page.getByTestId('deploy-status');
  await expect.poll(async () => { await failOnError(page, 'deploy-error', 'deployment check'); return deployStatus.getAttribute('data-outcome'); }).toBe('done');
  await expect(page.getByTestId('deploy-progress')).toHaveAttribute('data-done', '64');
  const agreement = Number(await page.getByTestId('deploy-agreement').getAttribute('data-agreement'));
  expect(agreement).toBeGreaterThanOrEqual(90);
  await expect(page.getByTestId('deploy-agreement')).toHaveAttribute('data-images', '64');
  await expect(page.getByTestId('deploy-acc-int')).not.toHaveAttribute('data-acc1', '');
  await expect(page.getByTestId('deploy-acc-fq')).not.toHaveAttribute('data-acc1', '');
  // the converted int8 model's int32 accumulators all fit in the worst case (src/quant/accumulator-bound.ts)
  await expect(page.getByTestId('deploy-accumulators')).toHaveAttribute('data-at-risk', '0');
  await expect(page.getByTestId('deploy-accumulators')).toHaveAttribute('data-saturated', '0');
  const rows = page.getByTestId('deploy-layer-row');
  expect(await rows.count()).toBeGreaterThan(3);
  await expect(page.getByTestId('deploy-perf-row')).toHaveCount(6);
  await expect(page.getByTestId('deploy-perf-row').first()).toHaveAttribute('data-march', 'bayes');
  // A layer row (keyboard: focus and Enter) selects its node in the graph, coloured by the metric.
  const layer = (await rows.nth(1).getAttribute('data-layer'))!;
  // A search filter that would dim the row's node is cleared when the row selects it.
  await page.getByTestId('graph-search').fill('no-such-layer');
  await expect(page.getByTestId('graph-search')).toHaveAttribute('data-matches', '0');
  await rows.nth(1).getByTestId('deploy-layer-jump').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('node-details')).toHaveAttribute('data-node', layer);
  await expect(page.getByTestId('graph-search')).toHaveValue('');
  await expect(svg.locator(`g.node.selected[data-id="${layer}"]`)).toHaveCount(1);
  await expect(page.getByTestId('graph-color-by')).toHaveValue('sqnr');
  await expect(page.getByTestId('graph-legend')).toHaveAttribute('data-mode', 'sqnr');
  await expect(page.getByTestId('legend-no-overlay')).toHaveCount(0);
  // Downloads: the model file (QSIM magic) and the ONNX QDQ file (a ModelProto: field 1 ir_version, varint).
  const modelFile = await download(page, testInfo, 'download-model-file');
  expect(modelFile.name).toMatch(/\.qsbin$/);
  expect(modelFile.bytes.subarray(0, 4).toString('latin1')).toBe('QSIM');
  const onnx = await download(page, testInfo, 'download-onnx');
  expect(onnx.name).toMatch(/\.qdq\.onnx$/);
  expect(onnx.bytes.length).toBeGreaterThan(100);
  expect(onnx.bytes[0]).toBe(0x08);
  // The PyTorch package (.zip): the generated model.py, the weights, every scale, the torchrun script.
  const torchZip = await download(page, testInfo, 'download-torch');
  expect(torchZip.name).toBe('cnn-small-qat-torch.zip');
  const torchFiles = unzipSync(new Uint8Array(torchZip.bytes));
  expect(Object.keys(torchFiles).sort()).toEqual(['model.py', 'qparams.json', 'studio-graph.json', 'studio_quant.py', 'torchrun_compat.py', 'train_qat.py', 'weights.safetensors']
    .map((f) => `cnn-small-qat-torch/${f}`));
  expect(Buffer.from(torchFiles['cnn-small-qat-torch/model.py']).toString('utf8')).toContain('def build(qat: bool = False) -> torch.nn.Module:');
  const report = JSON.parse((await download(page, testInfo, 'download-report')).bytes.toString('utf8'));
  expect(report.int.agreement_top1).toBe(agreement);
  await shoot(page, testInfo, 'panel-deploy', 'panel-deploy');
  await page.getByTestId('graph-color-by').selectOption('dtype');

  for (const [id, name] of [['panel-model', 'panel-model'], ['panel-data', 'panel-data'], ['step-train', 'panel-train'], ['panel-quantize', 'panel-quantize'], ['panel-graph', 'panel-graph']] as const) {
    if (id === 'step-train') {
      const path = testInfo.outputPath(`${name}.png`);
      await page.locator('#step-train').screenshot({ path });
      await testInfo.attach(name, { path, contentType: 'image/png' });
    } else await shoot(page, testInfo, id, name);
  }
  const full = testInfo.outputPath('studio-full.png');
  await page.screenshot({ path: full, fullPage: true });
  await testInfo.attach('studio-full', { path: full, contentType: 'image/png' });

  // Cancel a longer check mid-run: the simulator worker is terminated, the training worker stops, the files stay.
  await page.getByTestId('deploy-images').fill('3000');
  await page.getByTestId('deploy-batch-size').fill('50');
  await page.getByTestId('deploy-run-button').click();
  await expect.poll(async () => Number(await page.getByTestId('deploy-progress').getAttribute('data-done'))).toBeGreaterThan(0);
  await page.getByTestId('deploy-cancel-button').click();
  await expect(deployStatus).toHaveAttribute('data-outcome', 'cancelled');
  await expect(deployStatus).toHaveAttribute('data-status', 'idle');
  expect(Number(await page.getByTestId('deploy-progress').getAttribute('data-done'))).toBeLessThan(3000);
  await expect(page.getByTestId('deploy-layers')).toHaveCount(0);
  await expect(page.getByTestId('download-model-file')).toBeEnabled();
  await expect(page.getByTestId('deploy-run-button')).toBeEnabled();

  // Reload: model, results and checkpoints come back; the worker can calibrate again without training.
  const calibAcc = await page.getByTestId('acc-calib').getAttribute('data-acc1');
  const qatAcc = await page.getByTestId('acc-qat').getAttribute('data-acc1');
  await waitSaved(page, 0);
  const savedAt = Number(await page.getByTestId('project-status').getAttribute('data-saved-at'));
  expect(savedAt).toBeGreaterThan(0);
  await page.reload();
  await expect(page.getByTestId('project-status')).toHaveAttribute('data-status', 'ready');
  await expect(page.getByTestId('acc-calib')).toHaveAttribute('data-acc1', calibAcc ?? '');
  await expect(page.getByTestId('acc-qat')).not.toHaveAttribute('data-acc1', '');
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-outcome', 'done');
  await expect(page.getByTestId('epoch-row')).toHaveCount(1);
  await expect(page.getByTestId('setting-trainImages')).toHaveValue('256');
  await expect(page.getByTestId('quant-observer')).toHaveValue('minmax');
  await expect(page.getByTestId('histograms')).toBeVisible();
  await expect(page.getByTestId('backend-badge')).not.toHaveAttribute('data-backend', 'pending', { timeout: 60_000 });
  await page.getByTestId('quant-calib-batches').fill('1');
  await page.getByTestId('calibrate-button').click();
  await expect.poll(async () => { await failOnError(page, 'quant-error', 'calibration after reload'); return page.getByTestId('quant-status').getAttribute('data-outcome'); }).toBe('done');

  // Back from PyTorch: "Import PyTorch QAT" takes the three files train_qat.py writes (here the package's own, i.e. the
  // QAT model before the reload), which become the QAT model again, with its accuracy.
  await page.getByTestId('import-torch-input').setInputFiles(['weights.safetensors', 'qparams.json', 'studio-graph.json']
    .map((f) => ({ name: f, mimeType: 'application/octet-stream', buffer: Buffer.from(torchFiles[`cnn-small-qat-torch/${f}`]) })));
  await expect(page.getByTestId('quant-status')).toHaveAttribute('data-stage', 'qat');
  await expect.poll(async () => { await failOnError(page, 'quant-error', 'PyTorch import'); return page.getByTestId('quant-status').getAttribute('data-outcome'); }).toBe('done');
  await expect(page.getByTestId('acc-qat')).toHaveAttribute('data-acc1', qatAcc ?? '');
  expect(errors).toEqual([]);
});
