/**
 * Results belong to the model and data on screen (issue 11, the silent wrong-result bug), walked as a user would:
 * train cnn-small briefly on a small subset; drop a PyTorch-trained .onnx: the page says cnn-small's results are
 * put aside, every stage starts clean, Calibrate waits for an evaluation; Evaluate, then Calibrate runs on the
 * imported model (its histograms name its nodes, as the graph does); back to cnn-small its own results reopen.
 * An imported 3x32x32 MobileNetV2 on 1x28x28 data: nothing can start and the page says why, next to no
 * accuracy of another model. A cancelled run: the page says which float model stays; Calibrate then works on it;
 * a cancelled first run of another model leaves nothing to calibrate, and says so. Waits are on app state only.
 */
import { readFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { failOnError, openStudio, shoot } from './helpers/studio.ts';

const FIXTURES = new URL('../tests/fixtures/onnx/', import.meta.url);

async function drop(page: Page, testId: string, name: string, bytes: Buffer): Promise<void> {
  const dt = await page.evaluateHandle(({ n, b64 }) => {
    const d = new DataTransfer();
    d.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], n));
    return d;
  }, { n: name, b64: bytes.toString('base64') });
  await page.getByTestId(testId).dispatchEvent('drop', { dataTransfer: dt });
}

async function runDone(page: Page, what: string): Promise<void> {
  await expect.poll(async () => { await failOnError(page, 'run-error', what); return page.getByTestId('run-status').getAttribute('data-outcome'); }, { timeout: 300_000 }).toBe('done');
}

async function calibrate(page: Page): Promise<string[]> {
  await page.getByTestId('calibrate-button').click();
  await expect.poll(async () => { await failOnError(page, 'quant-error', 'calibration'); return page.getByTestId('quant-status').getAttribute('data-outcome'); }, { timeout: 300_000 }).toBe('done');
  return page.getByTestId('hist-select').locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
}

/** Every node of the graph on screen (no groups, fitted: all drawn). */
async function graphNodeIds(page: Page): Promise<string[]> {
  const svg = page.getByTestId('graph-svg');
  await page.getByTestId('graph-groups').uncheck();
  await expect(svg).toHaveAttribute('data-layout', 'ready');
  await page.getByTestId('graph-fit').click();
  await expect(svg).toHaveAttribute('data-drawn', (await svg.getAttribute('data-graph-nodes'))!);
  return svg.locator('g.node').evaluateAll((els) => els.map((e) => e.getAttribute('data-id') ?? ''));
}

test('switching the model: results stay with their model, stages run only on what is shown', async ({ page }, testInfo) => {
  test.setTimeout(900_000); // SwiftShader on a shared 2-core machine
  const errors = await openStudio(page);
  await expect(page.getByTestId('scope-model')).toHaveText('cnn-small');

  // 1. cnn-small, briefly, on a small subset.
  for (const [k, v] of Object.entries({ trainImages: 256, testImages: 128, batchSize: 32, epochs: 1 })) await page.getByTestId(`setting-${k}`).fill(String(v));
  await page.getByTestId('quant-calib-batches').fill('2');
  await page.getByTestId('quant-calib-batch-size').fill('32');
  await page.getByTestId('quant-observer').selectOption('minmax');
  await expect(page.getByTestId('calibrate-button')).toBeDisabled();
  await expect(page.getByTestId('quant-status')).toHaveText('Train cnn-small on this data first (step 3).');
  await page.getByTestId('train-button').click();
  await runDone(page, 'training');
  const cnnAcc = await page.getByTestId('acc-float').getAttribute('data-acc1');
  expect(Number(cnnAcc)).toBeGreaterThan(0);
  await expect(page.getByTestId('quant-status')).toHaveText('Ready to calibrate cnn-small');

  // 2. A PyTorch-trained Fashion-MNIST CNN dropped on the model panel.
  await drop(page, 'model-dropzone', 'fashion_cnn.onnx', await readFile(new URL('fashion_cnn.onnx', FIXTURES)));
  await expect(page.getByTestId('model-status')).toHaveText('Imported: fashion_cnn.onnx');
  const notice = page.getByTestId('scope-notice');
  await expect(notice).toHaveAttribute('data-kind', 'clean');
  await expect(notice).toHaveAttribute('data-changed', 'model');
  await expect(notice).toContainText('Now fashion_cnn.onnx on fashion-mnist (built-in): no results for this model yet');
  await expect(notice).toContainText('The results of cnn-small on fashion-mnist (built-in) are kept');
  await expect(page.getByTestId('scope-model')).toHaveText('fashion_cnn.onnx');
  // Nothing of cnn-small is shown: no float accuracy, no epochs, no curve, no histograms.
  await expect(page.getByTestId('acc-float')).toHaveAttribute('data-acc1', '');
  await expect(page.getByTestId('epoch-results')).toHaveAttribute('data-rows', '0');
  await expect(page.getByTestId('histograms-empty')).toBeVisible();
  await expect(page.getByTestId('deploy-empty')).toHaveAttribute('data-reason', 'no-model');
  // Calibrate cannot start on cnn-small's checkpoint; the page says what to do.
  await expect(page.getByTestId('calibrate-button')).toBeDisabled();
  await expect(page.getByTestId('quant-status')).toHaveText('Evaluate fashion_cnn.onnx first (step 3): calibration starts from its evaluated float weights.');
  await shoot(page, testInfo, 'panel-quantize', 'switch-imported-clean');

  // 3. Evaluate the imported model on the current data, then calibrate it.
  await page.getByTestId('evaluate-button').click();
  await runDone(page, 'evaluation');
  await expect(page.getByTestId('run-status')).toContainText('Evaluated on 128 test images');
  const importedAcc = Number(await page.getByTestId('acc-float').getAttribute('data-acc1'));
  expect(importedAcc).toBeGreaterThan(70); // PyTorch-trained weights, not cnn-small's ~60 % after 256 images
  await expect(page.getByTestId('acc-float')).toContainText('evaluated');
  await expect(page.getByTestId('calibrate-button')).toBeEnabled();
  const sites = await calibrate(page);
  const nodes = await graphNodeIds(page);
  expect(sites.length).toBeGreaterThan(0);
  for (const s of sites) expect(nodes, `histogram site ${s} is a node of the imported graph`).toContain(s);
  expect(sites.some((s) => s.startsWith('block1'))).toBe(false); // cnn-small's layer names
  await expect(page.getByTestId('acc-calib')).not.toHaveAttribute('data-acc1', '');

  // 4. Back to cnn-small: its own results reopen, and say so.
  await page.getByTestId('model-select').selectOption('cnn-small');
  await expect(notice).toHaveAttribute('data-kind', 'reopened');
  await expect(notice).toContainText('Now cnn-small on fashion-mnist (built-in): reopened its own results');
  await expect(page.getByTestId('acc-float')).toHaveAttribute('data-acc1', cnnAcc!);
  await expect(page.getByTestId('acc-calib')).toHaveAttribute('data-acc1', '');
  await expect(page.getByTestId('epoch-results')).toHaveAttribute('data-rows', '1');

  // 5. MobileNetV2 exported for 3x32x32: nothing can start on 1x28x28 data, and each disabled button says why.
  await page.getByTestId('model-inputShape').fill('3x32x32');
  await drop(page, 'model-dropzone', 'mobilenetv2.onnx', await readFile(new URL('mobilenetv2.onnx', FIXTURES)));
  await expect(page.getByTestId('model-status')).toHaveText('Imported: mobilenetv2.onnx');
  await expect(notice).toHaveAttribute('data-kind', 'clean');
  const why = 'mobilenetv2.onnx takes 3x32x32 inputs; the loaded data is 1x28x28: load 3x32x32 data (or import the model with a matching input shape).';
  await expect(page.getByTestId('quant-status')).toHaveText(why);
  await expect(page.getByTestId('acc-float')).toHaveAttribute('data-acc1', '');
  await expect(page.getByTestId('acc-float')).not.toContainText('%');
  for (const b of ['train-button', 'evaluate-button', 'calibrate-button', 'qat-button', 'deploy-run-button']) await expect(page.getByTestId(b)).toBeDisabled();
  await expect(page.getByTestId('train-why')).toHaveText(`Train: ${why}`);
  await expect(page.getByTestId('calibrate-button')).toHaveAttribute('title', why);
  await shoot(page, testInfo, 'panel-quantize', 'switch-mobilenetv2-blocked');

  // 6. A cancelled run: back to cnn-small (reopened), train again on more images and cancel at once.
  await page.getByTestId('model-inputShape').fill('');
  await page.getByTestId('model-select').selectOption('cnn-small');
  await expect(notice).toHaveAttribute('data-kind', 'reopened');
  await page.getByTestId('setting-trainImages').fill('4000');
  await page.getByTestId('train-button').click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'running');
  await page.getByTestId('cancel-button').click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-outcome', 'cancelled');
  await expect(page.getByTestId('run-status')).toContainText(`Run cancelled: the float model trained before stays (Acc@1 ${Number(cnnAcc).toFixed(2)} %)`);
  await expect(page.getByTestId('acc-float')).toHaveAttribute('data-acc1', cnnAcc!);
  await expect(page.getByTestId('quant-status')).toHaveText('Ready to calibrate cnn-small');
  const cnnSites = await calibrate(page); // it works: the kept checkpoint is cnn-small's, on this data
  expect(cnnSites.some((s) => s.startsWith('block1'))).toBe(true);

  // A first run of another model, cancelled: nothing to calibrate there, and the page says so.
  await page.getByTestId('model-select').selectOption('mlp');
  await expect(notice).toHaveAttribute('data-kind', 'clean');
  await page.getByTestId('train-button').click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'running');
  await page.getByTestId('cancel-button').click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-outcome', 'cancelled');
  await expect(page.getByTestId('run-status')).toContainText('Run cancelled: there is no float model yet');
  await expect(page.getByTestId('calibrate-button')).toBeDisabled();
  await expect(page.getByTestId('quant-status')).toHaveText('Train mlp on this data first (step 3).');
  expect(errors).toEqual([]);
});
