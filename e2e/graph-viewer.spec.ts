/**
 * The graph viewer on the imported MobileNetV2 (tests/fixtures/onnx): every label inside its node, tensor shapes
 * on the edges, a minimap, Fit that shows every node, arrow keys along the edges and Escape closing the details,
 * a node's attributes; screenshots of the panel at 1280x800 and 1920x1080.
 */
import { readFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { openStudio, shoot } from './helpers/studio.ts';

const FIXTURES = new URL('../tests/fixtures/onnx/', import.meta.url);

/** Nodes whose text runs outside their box (in screen pixels). */
async function labelsOutside(page: Page): Promise<string[]> {
  return page.getByTestId('graph-svg').locator('g.node').evaluateAll((gs) => gs.flatMap((g) => {
    const r = g.querySelector('rect')!.getBoundingClientRect();
    return [...g.querySelectorAll('text')].filter((t) => {
      const b = t.getBoundingClientRect();
      return b.width > 0 && (b.left < r.left - 0.5 || b.right > r.right + 0.5 || b.top < r.top - 0.5 || b.bottom > r.bottom + 0.5);
    }).map((t) => `${g.getAttribute('data-id')}: ${t.textContent}`);
  }));
}

test('the graph viewer: labels inside nodes, shapes on edges, minimap, Fit, keyboard, details', async ({ page }, testInfo) => {
  test.setTimeout(600_000);
  const errors = await openStudio(page);
  await page.getByTestId('model-inputShape').fill('3x32x32');
  const dt = await page.evaluateHandle((b64) => {
    const d = new DataTransfer();
    d.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'mobilenetv2.onnx'));
    return d;
  }, (await readFile(new URL('mobilenetv2.onnx', FIXTURES))).toString('base64'));
  await page.getByTestId('model-dropzone').dispatchEvent('drop', { dataTransfer: dt });
  await expect(page.getByTestId('model-status')).toHaveText('Imported: mobilenetv2.onnx');

  const svg = page.getByTestId('graph-svg');
  await page.getByTestId('panel-graph').scrollIntoViewIfNeeded();
  await expect(svg).toHaveAttribute('data-layout', 'ready');
  const n = Number(await svg.getAttribute('data-nodes'));
  expect(n).toBeGreaterThan(50);
  // Zoomed in enough to read: every op and name inside its box.
  await svg.locator('g.node').first().click();
  await expect(page.getByTestId('node-details')).toBeVisible();
  expect(Number(await svg.getAttribute('data-zoom'))).toBeGreaterThanOrEqual(0.45);
  expect(await labelsOutside(page)).toEqual([]);
  expect(await svg.locator('g.node text.op').count()).toBe(n);
  await expect(svg.locator('text.edge-label').first()).toHaveText(/^\d+(×\d+)*$/);
  await expect(page.getByTestId('graph-minimap')).toBeAttached();

  // A conv node's attributes; arrow keys follow the edges; Escape closes the details.
  const conv = svg.locator('g.node[data-op="conv2d"]').first();
  await conv.focus();
  await page.keyboard.press('Enter');
  const convId = (await conv.getAttribute('data-id'))!;
  await expect(page.getByTestId('node-details')).toHaveAttribute('data-node', convId);
  await expect(page.getByTestId('detail-attr-kernel')).toHaveText(/^\d+×\d+$/);
  await expect(page.getByTestId('detail-attr-groups')).toHaveText(/^\d+$/);
  await expect(page.getByTestId('detail-weights')).toContainText('weight');
  await page.keyboard.press('ArrowDown');
  const next = await page.getByTestId('node-details').getAttribute('data-node');
  expect(next).not.toBe(convId);
  await expect(svg.locator(`g.node.selected[data-id="${next}"]`)).toHaveCount(1);
  expect(await svg.locator('path').count()).toBeGreaterThan(0);
  await page.keyboard.press('ArrowUp');
  await expect(page.getByTestId('node-details')).toHaveAttribute('data-node', convId);
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('node-details')).toHaveCount(0);

  // Fit shows every node inside the drawing.
  await page.getByTestId('graph-fit').click();
  await expect(svg).toHaveAttribute('data-fit', 'all');
  const box = (await svg.boundingBox())!;
  const outside = await svg.locator('g.node rect').evaluateAll((rs, b) => rs.filter((r) => {
    const q = r.getBoundingClientRect();
    return q.left < b.x - 1 || q.right > b.x + b.width + 1 || q.top < b.y - 1 || q.bottom > b.y + b.height + 1;
  }).length, box);
  expect(outside).toBe(0);

  for (const [w, h] of [[1280, 800], [1920, 1080]]) {
    await page.setViewportSize({ width: w, height: h });
    await expect(svg).toHaveAttribute('data-layout', 'ready');
    await shoot(page, testInfo, 'panel-graph', `graph-mobilenetv2-${w}x${h}`);
  }
  expect(errors).toEqual([]);
});
