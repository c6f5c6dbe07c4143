/**
 * Two runs side by side in the graph viewer (cnn-small, briefly trained): two calibrations (min/max and
 * percentile) and a QAT pass; the graph compare view shows calibration A and B with one selection, each node's
 * difference written in it, the views panning together, the node's A / B values the same as the Runs step's
 * table. The node details show one stage's scale, the same in the panel and the histogram's clip range (int8:
 * clip = scale × [−128, 127]), for QAT and for the calibration. Screenshots at 1280x800 and 1920x1080.
 */
import { expect, test, type Page } from '@playwright/test';
import { failOnError, openStudio, shoot } from './helpers/studio.ts';

async function quantDone(page: Page, button: string, what: string): Promise<void> {
  await page.getByTestId(button).click();
  const status = page.getByTestId('quant-status');
  await expect(status).toHaveAttribute('data-status', 'idle');
  await expect.poll(async () => { await failOnError(page, 'quant-error', what); return status.getAttribute('data-outcome'); }, { timeout: 300_000 }).toBe('done');
}

/** The scale in the node panel and the histogram's clip range agree: clip / scale is the int8 range. */
async function expectStageConsistent(page: Page, stage: 'calib' | 'qat'): Promise<number> {
  await expect(page.getByTestId('detail-scale')).toHaveAttribute('data-stage', stage);
  const scale = Number(await page.getByTestId('detail-scale').getAttribute('data-scale'));
  expect(scale).toBeGreaterThan(0);
  await expect(page.getByTestId('detail-hist-note')).toHaveAttribute('data-scale', String(scale));
  await expect(page.getByTestId('detail-hist-note')).toHaveAttribute('data-stage', stage);
  const clip = (await page.getByTestId('node-details').getByTestId('act-histogram').getAttribute('data-clip'))!.split(',').map(Number);
  expect(clip[0] / scale).toBeCloseTo(-128, 6);
  expect(clip[1] / scale).toBeCloseTo(127, 6);
  return scale;
}

test('graph compare: two runs side by side, one selection, per-node deltas; the shown stage\'s scale everywhere', async ({ page }, testInfo) => {
  test.setTimeout(900_000); // training, two calibrations and QAT on SwiftShader
  const errors = await openStudio(page);
  for (const [k, v] of Object.entries({ trainImages: 128, testImages: 64, batchSize: 32, epochs: 1 })) await page.getByTestId(`setting-${k}`).fill(String(v));
  await page.getByTestId('train-button').click();
  await expect.poll(async () => { await failOnError(page, 'run-error', 'training'); return page.getByTestId('run-status').getAttribute('data-outcome'); }, { timeout: 300_000 }).toBe('done');
  await page.getByTestId('quant-calib-batches').fill('1');
  await page.getByTestId('quant-calib-batch-size').fill('32');
  await page.getByTestId('quant-observer').selectOption('minmax');
  await quantDone(page, 'calibrate-button', 'calibration 1');
  await page.getByTestId('quant-observer').selectOption('percentile');
  await quantDone(page, 'calibrate-button', 'calibration 2');
  await page.getByTestId('quant-qat-images').fill('64');
  await quantDone(page, 'qat-button', 'QAT');

  // The Graph step, side by side: A and B are the Runs step's pick (the two calibrations).
  await page.getByTestId('panel-graph').scrollIntoViewIfNeeded();
  await page.getByTestId('graph-compare').selectOption('runs');
  const view = page.getByTestId('graph-compare-view');
  const runA = (await page.getByTestId('run-row').nth(0).getAttribute('data-id'))!, runB = (await page.getByTestId('run-row').nth(1).getAttribute('data-id'))!;
  await expect(view).toHaveAttribute('data-a', runA);
  await expect(view).toHaveAttribute('data-b', runB);
  await expect(view).toHaveAttribute('data-metric', 'scale');
  const a = page.getByTestId('graph-svg-a'), b = page.getByTestId('graph-svg-b');
  await expect(a).toHaveAttribute('data-layout', 'ready');
  await expect(b).toHaveAttribute('data-layout', 'ready');
  // Each B node with a scale in both runs writes the ratio in its box.
  expect(await b.locator('g.node text.name', { hasText: /^B\/A ×\d/ }).count()).toBeGreaterThan(2);
  const changed = Number(await page.getByTestId('compare-change-changed').getAttribute('data-count'));
  const same = Number(await page.getByTestId('compare-change-same').getAttribute('data-count'));
  expect(changed + same).toBeGreaterThan(2);

  // One selection: a conv clicked in A is selected in B; the details give A, B and B / A as the Runs table does.
  const conv = a.locator('g.node[data-op="conv2d"]').first();
  const convId = (await conv.getAttribute('data-id'))!;
  await conv.click();
  await expect(b.locator('g.node.selected')).toHaveAttribute('data-id', convId);
  await expect(page.getByTestId('node-details')).toHaveAttribute('data-node', convId);
  const cells = page.getByTestId('compare-node').locator('tbody td');
  const row = page.getByTestId('compare-layers').locator(`tr[data-layer="${convId}"] td`);
  await expect(cells.nth(1)).toHaveText((await row.nth(1).innerText()).trim());
  await expect(cells.nth(2)).toHaveText((await row.nth(2).innerText()).trim());
  await expect(b.locator(`g.node[data-id="${convId}"] text.name`)).toHaveText(/^B\/A ×\d\.\d{3}$/);
  // The two views pan and zoom together.
  await a.hover();
  await page.mouse.wheel(0, -300);
  await expect.poll(async () => b.getAttribute('data-zoom')).toBe(await a.getAttribute('data-zoom'));
  for (const [w, h] of [[1280, 800], [1920, 1080]]) {
    await page.setViewportSize({ width: w, height: h });
    await expect(b).toHaveAttribute('data-layout', 'ready');
    await shoot(page, testInfo, 'panel-graph', `graph-compare-runs-${w}x${h}`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });

  // One graph: the node's scale is the QAT model's, in the panel and in the histogram's clip range; the
  // calibration's when picked.
  await page.getByTestId('graph-compare').selectOption('none');
  const svg = page.getByTestId('graph-svg');
  await expect(svg).toHaveAttribute('data-layout', 'ready');
  await svg.locator(`g.node[data-id="${convId}"]`).click();
  await expect(page.getByTestId('node-details')).toHaveAttribute('data-node', convId);
  await expect(page.getByTestId('detail-scale-source')).toContainText('QAT model');
  const qatScale = await expectStageConsistent(page, 'qat');
  await expect(page.getByTestId('detail-scale')).toHaveText(qatScale.toPrecision(4));
  await expect(page.getByTestId('detail-weight-scale-chart')).toHaveAttribute('data-channels', /^\d+$/);
  await expect(page.getByTestId('detail-weight-source')).toContainText('per_channel');
  await page.getByTestId('detail-stage-calib').check();
  const calibScale = await expectStageConsistent(page, 'calib');
  await expect(page.getByTestId('detail-scale-source')).toContainText('observer percentile');
  await expect(page.getByTestId('detail-scale')).toHaveText(calibScale.toPrecision(4));
  await shoot(page, testInfo, 'panel-graph', 'graph-node-details-calib-1280x800');
  expect(errors).toEqual([]);
});
