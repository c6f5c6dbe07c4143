/**
 * Bring your own model: an .onnx file dropped on the Model panel becomes the studio's model. The
 * exported MobileNetV2 (tests/fixtures/onnx) shows in the graph viewer with every Conv+BN(+ReLU6) and
 * every residual Add fused (read from the viewer's node data attributes); a truncated copy and random
 * bytes named .onnx each show an error naming the file while the model stays. A PyTorch-trained
 * Fashion-MNIST CNN is evaluated with 0 epochs (no training) on a small test subset.
 */
import { readFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { failOnError, openStudio, shoot } from './helpers/studio.ts';

const FIXTURES = new URL('../tests/fixtures/onnx/', import.meta.url);

/** Drops files on a drop zone (a DataTransfer built in the page from the bytes). */
async function drop(page: Page, testId: string, files: { name: string; bytes: Buffer }[]): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, b64: f.bytes.toString('base64') }));
  const dt = await page.evaluateHandle((fs) => {
    const d = new DataTransfer();
    for (const f of fs) d.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name));
    return d;
  }, payload);
  await page.getByTestId(testId).dispatchEvent('drop', { dataTransfer: dt });
}

/** The drawn graph's nodes: id, op, the ids of the fused parts (data-fused-from); every node (no groups, fitted). */
async function viewerNodes(page: Page) {
  const svg = page.getByTestId('graph-svg');
  await page.getByTestId('graph-groups').uncheck();
  await expect(svg).toHaveAttribute('data-layout', 'ready');
  await page.getByTestId('graph-fit').click();
  await expect(svg).toHaveAttribute('data-drawn', (await svg.getAttribute('data-graph-nodes'))!);
  return svg.locator('g.node').evaluateAll((els) => els.map((e) => ({
    id: e.getAttribute('data-id') ?? '', op: e.getAttribute('data-op') ?? '',
    fused: Number(e.getAttribute('data-fused') ?? 0), parts: (e.getAttribute('data-fused-from') ?? '').split(' ').filter(Boolean),
  })));
}

const count = (nodes: { op: string }[], op: string) => nodes.filter((n) => n.op === op).length;

async function expectModelKept(page: Page, file: string, bad: string): Promise<void> {
  await expect(page.getByTestId('model-error')).toBeVisible();
  await expect(page.getByTestId('model-error')).toHaveAttribute('data-file', bad);
  await expect(page.getByTestId('model-error')).toContainText(bad);
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'idle');
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-kind', 'onnx');
  await expect(page.getByTestId('model-status')).toHaveText(`Imported: ${file}`);
  await expect(page.getByTestId('model-input')).toHaveText('3 × 32 × 32');
}

test('MobileNetV2 from ONNX: fused in the graph viewer; bad files keep the model', async ({ page }, testInfo) => {
  const errors = await openStudio(page);
  const mnv2 = await readFile(new URL('mobilenetv2.onnx', FIXTURES));
  const zooParams = await page.getByTestId('model-params').innerText();

  await page.getByTestId('model-inputShape').fill('3x32x32');
  await drop(page, 'model-dropzone', [{ name: 'mobilenetv2.onnx', bytes: mnv2 }]);
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-kind', 'onnx');
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'idle');
  await expect(page.getByTestId('model-error')).toHaveCount(0);
  await expect(page.getByTestId('model-input')).toHaveText('3 × 32 × 32');
  await expect(page.getByTestId('model-params')).not.toHaveText(zooParams);
  await expect(page.getByTestId('model-select')).toHaveValue('__imported__');
  await shoot(page, testInfo, 'panel-model', 'onnx-model-panel');

  // Before fusion: the exporter's Conv, BatchNormalization, Clip(0, 6) and residual Add nodes.
  await page.getByTestId('panel-graph').scrollIntoViewIfNeeded();
  await page.getByTestId('graph-fused').uncheck();
  const before = await viewerNodes(page);
  const bn = count(before, 'batchnorm2d'), relu6 = count(before, 'relu6'), adds = before.filter((n) => n.op === 'add');
  expect(count(before, 'conv2d')).toBe(52);
  expect(bn).toBe(52);
  expect(relu6).toBe(35);
  expect(adds.length).toBe(10);

  // After fusion: no BN, ReLU6 or Add is left on its own; each conv is one fused node naming its parts.
  await page.getByTestId('graph-fused').check();
  await expect.poll(async () => count(await viewerNodes(page), 'batchnorm2d')).toBe(0);
  const after = await viewerNodes(page);
  expect(count(after, 'relu6')).toBe(0);
  expect(count(after, 'add')).toBe(0);
  const fused = after.filter((n) => n.fused > 0);
  expect(fused.length).toBe(bn);
  expect(fused.every((f) => f.parts.length === f.fused && f.parts.some((p) => before.find((b) => b.id === p)?.op === 'batchnorm2d'))).toBe(true);
  await expect(page.getByTestId('graph-summary')).toHaveAttribute('data-fused-nodes', String(bn));
  for (const n of [...adds, ...before.filter((x) => x.op === 'relu6')]) {
    expect(fused.some((f) => f.parts.includes(n.id)), `${n.op} ${n.id} is part of a fused node`).toBe(true);
  }
  expect(fused.filter((f) => adds.some((a) => f.parts.includes(a.id))).length).toBe(10);
  await shoot(page, testInfo, 'panel-graph', 'onnx-mobilenetv2-fused');

  // Bad files: a truncated copy and random bytes; the error names each, the model stays.
  await page.getByTestId('panel-model').scrollIntoViewIfNeeded();
  await drop(page, 'model-dropzone', [{ name: 'mobilenetv2-truncated.onnx', bytes: mnv2.subarray(0, Math.floor(mnv2.length / 3)) }]);
  await expectModelKept(page, 'mobilenetv2.onnx', 'mobilenetv2-truncated.onnx');
  const noise = Buffer.alloc(8192);
  for (let i = 0, x = 12345; i < noise.length; i++) { x = (x * 1103515245 + 12345) >>> 0; noise[i] = x >>> 24; }
  await drop(page, 'model-dropzone', [{ name: 'random.onnx', bytes: noise }]);
  await expectModelKept(page, 'mobilenetv2.onnx', 'random.onnx');
  await shoot(page, testInfo, 'panel-model', 'onnx-bad-file');
  // The viewer still shows the imported model.
  expect(count(await viewerNodes(page), 'conv2d')).toBe(52);
  expect(errors).toEqual([]);
});

test('an imported Fashion-MNIST CNN is evaluated without training (0 epochs)', async ({ page }) => {
  const errors = await openStudio(page);
  await page.getByTestId('model-onnx-input').setInputFiles(new URL('fashion_cnn.onnx', FIXTURES).pathname);
  await expect(page.getByTestId('model-status')).toHaveText('Imported: fashion_cnn.onnx');
  await expect(page.getByTestId('model-input')).toHaveText('1 × 28 × 28');
  for (const [k, v] of Object.entries({ trainImages: 64, testImages: 200, batchSize: 50, epochs: 0 })) await page.getByTestId(`setting-${k}`).fill(String(v));
  await page.getByTestId('train-button').click();
  await expect.poll(async () => { await failOnError(page, 'run-error', 'evaluation'); return page.getByTestId('run-status').getAttribute('data-outcome'); }).toBe('done');
  await expect(page.getByTestId('epoch-results')).toHaveAttribute('data-rows', '1');
  const acc = Number(await page.getByTestId('acc-float').getAttribute('data-acc1'));
  expect(acc).toBeGreaterThan(70); // a trained model, not random weights (~10%)
  expect(errors).toEqual([]);
});
