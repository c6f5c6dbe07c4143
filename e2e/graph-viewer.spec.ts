/**
 * The graph viewer on the imported MobileNetV2 (tests/fixtures/onnx): it opens as its blocks (features.N groups)
 * with every label inside its box (bounding boxes, checked on every box while the arrow keys walk the graph from
 * input to output), tensor shapes on the edges, a minimap; a group opens and closes; a conv's attributes; Escape
 * closes the details; Fit shows every box; before / after fusion side by side with one selection. Screenshots of
 * the panel at 1280x800 and 1920x1080.
 */
import { readFile } from 'node:fs/promises';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { openStudio, shoot } from './helpers/studio.ts';

const FIXTURES = new URL('../tests/fixtures/onnx/', import.meta.url);

/** Drawn boxes whose text runs outside their rect (in screen pixels). */
async function labelsOutside(svg: Locator): Promise<string[]> {
  return svg.locator('g.node').evaluateAll((gs) => gs.flatMap((g) => {
    const r = g.querySelector('rect')!.getBoundingClientRect();
    return [...g.querySelectorAll('text')].filter((t) => {
      const b = t.getBoundingClientRect();
      return b.width > 0 && (b.left < r.left - 0.5 || b.right > r.right + 0.5 || b.top < r.top - 0.5 || b.bottom > r.bottom + 0.5);
    }).map((t) => `${g.getAttribute('data-id')}: ${t.textContent}`);
  }));
}

/** Drawn boxes whose labels are shown (not hidden for being too small). */
async function labelsShown(svg: Locator): Promise<number> {
  return svg.locator('g.node text.op').evaluateAll((ts) => ts.filter((t) => t.getBoundingClientRect().width > 0).length);
}

async function importMobileNet(page: Page): Promise<void> {
  await page.getByTestId('model-inputShape').fill('3x32x32');
  const dt = await page.evaluateHandle((b64) => {
    const d = new DataTransfer();
    d.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'mobilenetv2.onnx'));
    return d;
  }, (await readFile(new URL('mobilenetv2.onnx', FIXTURES))).toString('base64'));
  await page.getByTestId('model-dropzone').dispatchEvent('drop', { dataTransfer: dt });
  await expect(page.getByTestId('model-status')).toHaveText('Imported: mobilenetv2.onnx');
}

test('the graph viewer: blocks, labels inside, groups, keyboard, details, Fit, fusion side by side', async ({ page }, testInfo) => {
  test.setTimeout(600_000);
  const errors = await openStudio(page);
  await importMobileNet(page);
  const svg = page.getByTestId('graph-svg');
  await page.getByTestId('panel-graph').scrollIntoViewIfNeeded();
  await page.getByTestId('graph-fused').uncheck();
  await expect(svg).toHaveAttribute('data-layout', 'ready');
  await expect(svg).toHaveAttribute('data-graph-nodes', '155');

  // Opens as its blocks: 19 closed groups features.0 … features.18 and 6 nodes, readable.
  expect(Number(await svg.getAttribute('data-nodes'))).toBe(25);
  expect(Number(await svg.getAttribute('data-zoom'))).toBeGreaterThanOrEqual(0.45);
  expect(await labelsShown(svg)).toBeGreaterThan(5);
  expect(await labelsOutside(svg)).toEqual([]);
  await shoot(page, testInfo, 'panel-graph', 'graph-mobilenetv2-opens-1280x800');
  await page.getByTestId('graph-fit').click();
  await expect(svg.locator('g.node.group')).toHaveCount(19);
  expect(await svg.locator('g.node.group').evaluateAll((gs) => gs.map((g) => g.querySelector('text.op')!.textContent)))
    .toEqual(Array.from({ length: 19 }, (_, i) => `features.${i}`));
  await expect(svg.locator('g.frame')).toHaveCount(1); // `features`, open
  await expect(page.getByTestId('graph-minimap')).toBeAttached();
  for (const [w, h] of [[1280, 800], [1920, 1080]]) {
    await page.setViewportSize({ width: w, height: h });
    await expect(svg).toHaveAttribute('data-layout', 'ready');
    await page.getByTestId('graph-fit').click();
    await shoot(page, testInfo, 'panel-graph', `graph-mobilenetv2-fit-${w}x${h}`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });

  // The arrow keys walk from the input to the output, one box at a time; every box's labels sit inside it.
  await svg.locator('g.node[data-op="input"]').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('node-details')).toHaveAttribute('data-node', 'input');
  // Down and back up: the view follows the selection at a readable zoom.
  await page.keyboard.press('ArrowDown');
  await expect(page.getByTestId('node-details')).toHaveAttribute('data-node', 'quant');
  await page.keyboard.press('ArrowUp');
  await expect(page.getByTestId('node-details')).toHaveAttribute('data-node', 'input');
  const seen = new Set<string>();
  for (let step = 0; step < 40; step++) {
    const at = await page.evaluate(() => document.activeElement?.getAttribute('data-id') ?? '');
    if (seen.has(at)) break;
    seen.add(at);
    expect(await labelsShown(svg)).toBeGreaterThan(0);
    expect(await labelsOutside(svg)).toEqual([]);
    await page.keyboard.press('ArrowDown');
  }
  expect(seen.size).toBe(25);
  await shoot(page, testInfo, 'panel-graph', 'graph-mobilenetv2-walked-1280x800');
  await expect(page.getByTestId('node-details')).toHaveAttribute('data-node', /dequant/);
  await page.keyboard.press('ArrowUp');
  await expect(page.getByTestId('node-details')).toHaveAttribute('data-node', /Gemm/);
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('node-details')).toHaveCount(0);
  await expect(svg.locator('text.edge-label').first()).toHaveText(/^\d+(×\d+)*$/);

  // A block opens (click) into its parts; a conv inside shows its attributes; the block's header closes it.
  await page.getByTestId('graph-fit').click();
  await svg.locator('g.node.group[data-group="features/features.3"]').click();
  await expect(svg.locator('g.frame[data-id="ns:features/features.3"]')).toBeAttached();
  await expect(svg).toHaveAttribute('data-layout', 'ready');
  expect(Number(await svg.getAttribute('data-nodes'))).toBe(26); // the block: its conv part (a group) and its Add
  await svg.locator('g.node.group[data-group="features/features.3/conv"]').click();
  await expect(svg).toHaveAttribute('data-nodes', '28'); // conv.0, conv.1, conv.2
  await svg.locator('g.node.group[data-group="features/features.3/conv/conv.0"]').click();
  await expect(svg).toHaveAttribute('data-nodes', '30'); // Conv, BatchNormalization, Clip
  expect(await labelsOutside(svg)).toEqual([]);
  const conv = svg.locator('g.node[data-op="conv2d"][data-id^="features/features.3/"]').first();
  await expect(conv).toBeAttached();
  await conv.click();
  await expect(page.getByTestId('node-details')).toHaveAttribute('data-node', /^features\/features\.3\//);
  await expect(page.getByTestId('detail-attr-kernel')).toHaveText(/^\d+×\d+$/);
  await expect(page.getByTestId('detail-attr-groups')).toHaveText(/^\d+$/);
  await expect(page.getByTestId('detail-attr-stride')).toHaveText(/^\d+×\d+$/);
  await expect(page.getByTestId('detail-weights')).toContainText('weight');
  expect(await labelsOutside(svg)).toEqual([]);
  await shoot(page, testInfo, 'panel-graph', 'graph-mobilenetv2-block-open-1280x800');
  await svg.locator('g.frame[data-id="ns:features/features.3"] .frame-head').click();
  await expect(svg.locator('g.frame[data-id="ns:features/features.3"]')).toHaveCount(0);
  await expect(page.getByTestId('node-details')).toHaveCount(0); // the selected conv went with its block

  // Fit shows every box inside the drawing.
  await page.getByTestId('graph-fit').click();
  await expect(svg).toHaveAttribute('data-fit', 'all');
  await expect(svg).toHaveAttribute('data-drawn', await svg.getAttribute('data-nodes') ?? '');
  const box = (await svg.boundingBox())!;
  const outside = await svg.locator('g.node rect').evaluateAll((rs, b) => rs.filter((r) => {
    const q = r.getBoundingClientRect();
    return q.left < b.x - 1 || q.right > b.x + b.width + 1 || q.top < b.y - 1 || q.bottom > b.y + b.height + 1;
  }).length, box);
  expect(outside).toBe(0);

  // Before / after fusion side by side: a BN selected before fusion selects the fused conv that holds it.
  await page.getByTestId('graph-compare').selectOption('fusion');
  const a = page.getByTestId('graph-svg-a'), b = page.getByTestId('graph-svg-b');
  await expect(a).toHaveAttribute('data-layout', 'ready');
  await expect(b).toHaveAttribute('data-layout', 'ready');
  await expect(a).toHaveAttribute('data-graph-nodes', '155');
  await expect(b).toHaveAttribute('data-graph-nodes', '58');
  await page.getByTestId('graph-compare-fit').click();
  await a.locator('g.node.group[data-group="features/features.2/conv"]').click();
  await a.locator('g.node.group[data-group^="features/features.2/conv/conv.1"]').click();
  const bn = a.locator('g.node[data-op="batchnorm2d"][data-id^="features/features.2/conv/conv.1/"]');
  await bn.click();
  const bnId = (await bn.getAttribute('data-id'))!;
  const convId = bnId.replace(/conv\.1\.1\/BatchNormalization$/, 'conv.1.0/Conv');
  await expect(a.locator('g.node.selected')).toHaveAttribute('data-id', bnId);
  // The fused side opened its block to show the fused conv, selected.
  await expect(b.locator('g.node.selected')).toHaveAttribute('data-id', convId);
  await expect(b.locator(`g.node[data-id="${convId}"]`)).toHaveAttribute('data-fused-from', new RegExp(bnId.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
  await expect(page.getByTestId('node-details')).toHaveAttribute('data-node', convId);
  await expect(page.getByTestId('compare-peer')).toContainText(bnId);
  // And back: the fused node selected after fusion selects its conv (the anchor, same id) before fusion.
  await page.keyboard.press('Escape');
  await expect(a.locator('g.node.selected')).toHaveCount(0);
  await b.locator(`g.node[data-id="${convId}"]`).click();
  await expect(a.locator('g.node.selected')).toHaveAttribute('data-id', convId);
  await expect(b.locator('g.node.selected')).toHaveAttribute('data-id', convId);
  expect(await labelsOutside(a)).toEqual([]);
  expect(await labelsOutside(b)).toEqual([]);
  for (const [w, h] of [[1280, 800], [1920, 1080]]) {
    await page.setViewportSize({ width: w, height: h });
    await expect(b).toHaveAttribute('data-layout', 'ready');
    await shoot(page, testInfo, 'panel-graph', `graph-compare-fusion-${w}x${h}`);
  }
  expect(errors).toEqual([]);
});
