/**
 * The graph viewer at scale: the synthetic 2 000-node graph is laid out in the layout worker (the page keeps
 * painting meanwhile), only the nodes in view are drawn, and a pan / zoom frame stays cheap, both zoomed in (each
 * node a <g> with text) and fitted (all 2 000 nodes as one path per colour). Writes the measured figures to
 * test-results/graph-perf.json and attaches them.
 */
import { writeFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { openStudio } from './helpers/studio.ts';

interface Stats { n: number; median: number; p95: number; max: number }
const stats = (xs: number[]): Stats => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { n: s.length, median: +at(0.5).toFixed(2), p95: +at(0.95).toFixed(2), max: +s[s.length - 1].toFixed(2) };
};

/** Time of each wheel (zoom) and pointer-drag (pan) event's handler, which redraws the view synchronously. */
async function frameCosts(page: Page, steps: number): Promise<{ pan: number[]; zoom: number[] }> {
  return page.getByTestId('graph-svg').evaluate(async (svg, n) => {
    const r = svg.getBoundingClientRect();
    const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
    const pan: number[] = [], zoom: number[] = [];
    const next = () => new Promise((res) => requestAnimationFrame(res));
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      svg.dispatchEvent(new WheelEvent('wheel', { clientX: cx, clientY: cy, deltaY: i % 2 ? 40 : -40, bubbles: true, cancelable: true }));
      zoom.push(performance.now() - t0);
      await next();
    }
    const opts = (x: number, y: number) => ({ clientX: x, clientY: y, bubbles: true, cancelable: true, view: window, button: 0, buttons: 1 });
    svg.dispatchEvent(new MouseEvent('mousedown', opts(cx, cy)));
    for (let i = 1; i <= n; i++) {
      const t0 = performance.now();
      window.dispatchEvent(new MouseEvent('mousemove', opts(cx + Math.sin(i / 5) * 80, cy - i * 6)));
      pan.push(performance.now() - t0);
      await next();
    }
    window.dispatchEvent(new MouseEvent('mouseup', opts(cx, cy - n * 6)));
    return { pan, zoom };
  }, steps);
}

test('2 000 nodes: layout off the main thread, only what is visible drawn, cheap pan / zoom frames', async ({ page }, testInfo) => {
  test.setTimeout(300_000);
  const errors = await openStudio(page);
  await page.getByTestId('panel-graph').scrollIntoViewIfNeeded();
  const svg = page.getByTestId('graph-svg');
  await expect(svg).toHaveAttribute('data-layout', 'ready');

  // Frame gaps while the 2 000-node graph is built and laid out: the worker does the layout, the page keeps painting.
  await page.evaluate(() => {
    const w = window as unknown as { __gaps: number[]; __stop: boolean };
    w.__gaps = [];
    w.__stop = false;
    let last = performance.now();
    const tick = (t: number) => { w.__gaps.push(t - last); last = t; if (!w.__stop) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  });
  const t0 = Date.now();
  await page.getByTestId('graph-source').selectOption('synthetic');
  await expect(svg).toHaveAttribute('data-graph-nodes', '2000');
  await expect(svg).toHaveAttribute('data-layout', 'ready');
  const wallMs = Date.now() - t0;
  const gaps = await page.evaluate(() => { const w = window as unknown as { __gaps: number[]; __stop: boolean }; w.__stop = true; return w.__gaps; });
  const layoutMs = Number(await svg.getAttribute('data-layout-ms'));
  expect(Number(await svg.getAttribute('data-nodes'))).toBe(2000);

  // Zoomed in: only the nodes in view are drawn.
  await expect(svg).toHaveAttribute('data-mode', 'detail');
  const drawnIn = Number(await svg.getAttribute('data-drawn'));
  expect(drawnIn).toBeGreaterThan(3);
  expect(drawnIn).toBeLessThan(200);
  expect(await svg.locator('g.node').count()).toBe(drawnIn);
  const detail = await frameCosts(page, 60);
  // Still few nodes drawn after panning down the graph.
  expect(Number(await svg.getAttribute('data-drawn'))).toBeLessThan(200);

  // Fitted: all 2 000 in view, drawn as one path per colour (no per-node elements).
  await page.getByTestId('graph-fit').click();
  await expect(svg).toHaveAttribute('data-mode', 'overview');
  expect(await svg.locator('g.node').count()).toBe(0);
  const overview = await frameCosts(page, 60);

  const result = {
    nodes: 2000,
    layoutMs,
    selectToReadyMs: wallMs,
    longestFrameGapDuringLayoutMs: +Math.max(...gaps).toFixed(1),
    drawnWhenZoomedIn: drawnIn,
    zoomedIn: { zoomEventMs: stats(detail.zoom), panEventMs: stats(detail.pan) },
    fitted: { zoomEventMs: stats(overview.zoom), panEventMs: stats(overview.pan) },
    userAgent: await page.evaluate(() => navigator.userAgent),
  };
  console.log(JSON.stringify(result, null, 2));
  await writeFile('test-results/graph-perf.json', JSON.stringify(result, null, 2));
  await testInfo.attach('graph-perf', { body: JSON.stringify(result, null, 2), contentType: 'application/json' });
  // A frame's own work well inside one 60 Hz frame in the median, even on this shared 2-core machine.
  expect(result.zoomedIn.panEventMs.median).toBeLessThan(16);
  expect(result.fitted.panEventMs.median).toBeLessThan(16);
  expect(errors).toEqual([]);
});
