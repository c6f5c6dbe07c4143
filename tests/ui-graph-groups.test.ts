/**
 * The graph viewer's grouping, layout and drawing logic: namespaces as collapsible groups on the imported
 * MobileNetV2 (torchvision's 19 `features` blocks), merged edges, frames that hold their nodes, culling, labels that
 * fit, group colours, the fusion / run comparison, and readable text on every node colour.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fuse } from '../src/graph/passes/fuse.ts';
import { importOnnx } from '../src/io/onnx/import.ts';
import { boxColors, MIXED } from '../src/ui/graph-view/box-colors.ts';
import { BoxGrid, viewRect } from '../src/ui/graph-view/culling.ts';
import { buildViewGraph, syntheticGraph } from '../src/ui/graph-view/graph-model.ts';
import { boxWidth, fitLabel, NODE_MAX_W } from '../src/ui/graph-view/labels.ts';
import { layoutGraph } from '../src/ui/graph-view/layout.ts';
import { BAND_COLORS, BAND_TEXT } from '../src/ui/graph-view/metric-bands.ts';
import { ancestorsOf, buildNamespaceTree, initialExpanded, pathOf, representativeOf, revealed, visibleGraph } from '../src/ui/graph-view/namespaces.ts';
import { buildScene } from '../src/ui/graph-view/scene.ts';
import { changeOf, CHANGE_COLORS, deltaText, fusionPeers } from '../src/ui/features/graph/compare-model.ts';
import { stageScalesOf } from '../src/ui/features/graph/node-facts.ts';

const imported = importOnnx(new Uint8Array(readFileSync(new URL('./fixtures/onnx/mobilenetv2.onnx', import.meta.url))), 'mobilenetv2.onnx');
const unfused = buildViewGraph(imported.graph, null);
const fused = buildViewGraph(fuse(imported.graph, imported.host).graph, null);

describe('namespaces as groups', () => {
  it('opens the imported MobileNetV2 as its blocks: features.0 … features.18 closed, the rest as nodes', () => {
    const tree = buildNamespaceTree(unfused.nodes);
    const open = initialExpanded(tree);
    const vis = visibleGraph(unfused.nodes, tree, open);
    const groups = vis.items.filter((i) => i.kind === 'group').map((i) => tree.groups.get(i.id)!.label);
    // torchvision's mobilenet_v2 has 19 blocks in `features` (a stem conv, 17 inverted residuals, the last 1x1 conv).
    expect(groups).toEqual(Array.from({ length: 19 }, (_, i) => `features.${i}`));
    expect(vis.items.filter((i) => i.kind === 'node').map((i) => unfused.nodes.find((n) => n.id === i.id)!.op))
      .toEqual(['input', 'quant_stub', 'global_avgpool', 'flatten', 'linear', 'dequant_stub']);
    expect(vis.frames.map((f) => tree.groups.get(f.id)!.path)).toEqual(['features']);
    // Every node is drawn as itself or inside one box; every box holds at least one node.
    for (const n of unfused.nodes) expect(vis.items.some((i) => i.id === vis.repOf.get(n.id))).toBe(true);
    // 155 nodes in 25 boxes, a chain of 24 edges between them (the residual adds stay inside their blocks).
    expect(unfused.nodes).toHaveLength(155);
    expect(vis.items).toHaveLength(25);
    expect(vis.edges).toHaveLength(24);
  });

  it('after fusion too (a block or the classifier of one node is that node)', () => {
    const tree = buildNamespaceTree(fused.nodes);
    const vis = visibleGraph(fused.nodes, tree, initialExpanded(tree));
    // features.0 and features.18 are one conv each after fusion: nodes; the other 17 blocks are groups.
    expect(vis.items.filter((i) => i.kind === 'group').map((i) => tree.groups.get(i.id)!.label))
      .toEqual(Array.from({ length: 17 }, (_, i) => `features.${i + 1}`));
    expect(vis.items.filter((i) => i.id.startsWith('features/features.0/') || i.id.startsWith('features/features.18/')).map((i) => i.kind)).toEqual(['node', 'node']);
    expect(vis.items.find((i) => i.id === 'classifier/classifier.1/Gemm')?.kind).toBe('node');
  });

  it('merges chains of single-child groups and takes module paths from dotted names', () => {
    expect(pathOf({ id: 'features.3.conv.0', namespace: '' })).toEqual(['features', 'features.3', 'features.3.conv']);
    expect(pathOf({ id: 'fc', namespace: '' })).toEqual([]);
    const tree = buildNamespaceTree([
      { id: 'x', namespace: '' },
      { id: 'a1', namespace: 'a/b/c' }, { id: 'a2', namespace: 'a/b/c' }, { id: 'a3', namespace: 'a/b/d' },
      { id: 'solo', namespace: 'e/f' },
    ]);
    expect([...tree.groups.values()].map((g) => g.path)).toEqual(['a/b', 'a/b/c']);
    expect(tree.roots).toEqual(['x', 'ns:a/b', 'solo']);
    expect(ancestorsOf(tree, 'a1')).toEqual(['ns:a/b', 'ns:a/b/c']);
    expect(representativeOf(tree, new Set(['ns:a/b']), 'a1')).toBe('ns:a/b/c');
    expect(representativeOf(tree, new Set(), 'a3')).toBe('ns:a/b');
    expect([...revealed(tree, new Set(), 'a1')].sort()).toEqual(['ns:a/b', 'ns:a/b/c']);
    // A small model opens with every group open.
    expect([...initialExpanded(tree)].sort()).toEqual(['ns:a/b', 'ns:a/b/c']);
  });

  it('merges edges between boxes and drops those inside a closed box', () => {
    const nodes = [
      { id: 'in', namespace: '', inputs: [] },
      { id: 'a', namespace: 'blk', inputs: ['in'] }, { id: 'b', namespace: 'blk', inputs: ['a', 'in'] },
      { id: 'out', namespace: '', inputs: ['b', 'a'] },
    ];
    const tree = buildNamespaceTree(nodes);
    const closed = visibleGraph(nodes, tree, new Set());
    expect(closed.edges.map((e) => `${e.from}>${e.to}`)).toEqual(['in>ns:blk', 'ns:blk>out']);
    const open = visibleGraph(nodes, tree, new Set(['ns:blk']));
    expect(open.edges).toHaveLength(5);
    expect(open.items.map((i) => [i.id, i.parent])).toEqual([['in', null], ['a', 'ns:blk'], ['b', 'ns:blk'], ['out', null]]);
  });
});

describe('layout with groups', () => {
  it('puts an open group\'s frame around its nodes with room for its name', () => {
    const tree = buildNamespaceTree(unfused.nodes);
    const open = new Set([...initialExpanded(tree), 'ns:features/features.3', 'ns:features/features.3/conv']);
    const scene = buildScene(unfused, tree, open);
    const l = layoutGraph(scene.input);
    const pos = new Map(l.nodes.map((n) => [n.id, n]));
    for (const f of l.groups) {
      const inside = scene.input.nodes.filter((n) => n.parent === f.id || (n.parent && ancestorsOf(tree, n.parent).includes(f.id)));
      expect(inside.length).toBeGreaterThan(0);
      for (const n of inside) {
        const p = pos.get(n.id)!;
        expect(p.x - p.w / 2).toBeGreaterThanOrEqual(f.x - f.w / 2);
        expect(p.x + p.w / 2).toBeLessThanOrEqual(f.x + f.w / 2);
        expect(p.y - p.h / 2).toBeGreaterThanOrEqual(f.y - f.h / 2 + 14); // the frame's header (16 px, text 9 px)
        expect(p.y + p.h / 2).toBeLessThanOrEqual(f.y + f.h / 2);
      }
    }
    expect(l.groups.map((g) => g.id).sort()).toEqual(['ns:features', 'ns:features/features.3', 'ns:features/features.3/conv']);
  });

  it('measured boxes: every label fits its box or is shortened to fit', () => {
    const perChar = (s: string, font: string) => s.length * (font.includes('11px') ? 7 : 5.5);
    expect(boxWidth('conv2d', 'x', perChar)).toBe(72);
    expect(boxWidth('conv2d [conv+bn+relu6]', 'features/features.1/conv/conv.0/conv.0.0/Conv', perChar)).toBe(NODE_MAX_W);
    const long = 'features/features.16/conv/conv.2/conv.2.0/Conv';
    const s = fitLabel(long, NODE_MAX_W - 12, '9px mono', perChar);
    expect(perChar(s, '9px')).toBeLessThanOrEqual(NODE_MAX_W - 12);
    expect(s).toContain('…');
    expect(s.startsWith('features/featu')).toBe(true);
    expect(s.endsWith('.2.0/Conv')).toBe(true);
    expect(fitLabel('conv1', 100, '9px mono', perChar)).toBe('conv1');
  });
});

describe('drawing only what is visible', () => {
  it('the grid answers exactly the boxes that meet a rectangle', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const boxes = Array.from({ length: 3000 }, () => {
      const x = rnd() * 5000, y = rnd() * 40000;
      return { x0: x, y0: y, x1: x + 20 + rnd() * 300, y1: y + 38 + rnd() * (rnd() < 0.02 ? 3000 : 10) };
    });
    const grid = new BoxGrid(boxes);
    for (let q = 0; q < 50; q++) {
      const x = rnd() * 6000 - 500, y = rnd() * 42000 - 1000, r = { x0: x, y0: y, x1: x + rnd() * 2000, y1: y + rnd() * 2000 };
      const brute = boxes.flatMap((b, i) => (b.x1 >= r.x0 && b.x0 <= r.x1 && b.y1 >= r.y0 && b.y0 <= r.y1 ? [i] : []));
      expect(grid.query(r)).toEqual(brute);
    }
  });
  it('a view of a 2 000-node layout holds a few dozen nodes, found fast', () => {
    const v = syntheticGraph(2000);
    const l = layoutGraph({ nodes: v.nodes, edges: v.edges });
    const grid = new BoxGrid(l.nodes.map((n) => ({ x0: n.x - n.w / 2, y0: n.y - n.h / 2, x1: n.x + n.w / 2, y1: n.y + n.h / 2 })));
    const t0 = performance.now();
    let seen = 0;
    for (let i = 0; i < 1000; i++) seen += grid.query(viewRect({ x: 0, y: -i * 30, k: 1 }, 1000, 520)).length;
    const ms = (performance.now() - t0) / 1000;
    console.log(`culling query on a 2000-node layout: ${(ms * 1000).toFixed(1)} µs, ${(seen / 1000).toFixed(0)} nodes in view`);
    expect(seen / 1000).toBeLessThan(60);
    expect(seen / 1000).toBeGreaterThan(5);
  });
});

describe('colours', () => {
  it('a closed group: its nodes\' colour when shared, else mixed (dtype) or the worst band (metric)', () => {
    const tree = buildNamespaceTree([{ id: 'a', namespace: 'g' }, { id: 'b', namespace: 'g' }, { id: 'c', namespace: 'h' }, { id: 'd', namespace: 'h' }]);
    const dt: Record<string, string> = { a: 'var(--dt-int8)', b: 'var(--dt-int8)', c: 'var(--dt-int8)', d: 'var(--dt-float)' };
    const byDtype = boxColors(tree, (id) => dt[id], null);
    expect(byDtype('ns:g')).toBe('var(--dt-int8)');
    expect(byDtype('ns:h')).toBe(MIXED);
    const band: Record<string, string> = { a: BAND_COLORS.healthy, b: BAND_COLORS.poor, c: BAND_COLORS.fair, d: BAND_COLORS.fair };
    const worst = [BAND_COLORS.bad, BAND_COLORS.poor, BAND_COLORS.fair, BAND_COLORS.healthy];
    const byBand = boxColors(tree, (id) => band[id], worst);
    expect(byBand('ns:g')).toBe(BAND_COLORS.poor);
    expect(byBand('ns:h')).toBe(BAND_COLORS.fair);
    expect(byBand('a')).toBe(BAND_COLORS.healthy);
  });

  it('every node fill carries its text at 4.5:1 or more, in both colour schemes', () => {
    const css = readFileSync(new URL('../src/ui/features/graph/graph-viewer.css', import.meta.url), 'utf8');
    const dark = css.indexOf('prefers-color-scheme: dark');
    const vars = (s: string) => Object.fromEntries([...s.matchAll(/--([\w-]+):\s*(#[0-9a-f]{6})/gi)].map((m) => [m[1], m[2]]));
    for (const scheme of [vars(css.slice(0, dark)), vars(css.slice(dark))]) {
      const fills = ['dt-float', 'dt-int8', 'dt-int16', 'dt-int32', 'dt-none', 'dt-mixed'];
      for (const f of fills) expect(contrast(scheme[f], scheme['node-text']), f).toBeGreaterThanOrEqual(4.5);
    }
    for (const c of Object.values(CHANGE_COLORS)) expect(contrast(c, BAND_TEXT)).toBeGreaterThanOrEqual(7);
  });
});

describe('comparison', () => {
  it('before / after fusion: each node maps to the fused node that holds it, a fused node to its anchor', () => {
    const p = fusionPeers(unfused, fused);
    expect(p.toFused.size).toBe(unfused.nodes.length);
    const bn = unfused.nodes.find((n) => n.op === 'batchnorm2d')!;
    const conv = unfused.nodes.find((n) => n.id === bn.inputs[0])!;
    expect(conv.op).toBe('conv2d');
    expect(p.toFused.get(bn.id)).toBe(conv.id);
    expect(p.toUnfused.get(conv.id)).toBe(conv.id);
    for (const f of fused.nodes) expect(unfused.nodes.some((n) => n.id === p.toUnfused.get(f.id))).toBe(true);
  });

  it('per-node change with fixed thresholds', () => {
    expect(changeOf('sqnr', { a: 30, b: 34, delta: 4 })).toBe('better');
    expect(changeOf('sqnr', { a: 30, b: 30.5, delta: 0.5 })).toBe('same');
    expect(changeOf('maxLsb', { a: 3, b: 1, delta: -2 })).toBe('better');
    expect(changeOf('cosine', { a: 0.9999, b: 0.99, delta: 0.99 - 0.9999 })).toBe('worse');
    expect(changeOf('scale', { a: 0.1, b: 0.1005, delta: 1.005 })).toBe('same');
    expect(changeOf('scale', { a: 0.1, b: 0.12, delta: 1.2 })).toBe('changed');
    expect(changeOf('sqnr', { a: 40, b: Infinity, delta: null })).toBe('better');
    expect(deltaText('sqnr', { a: 30, b: 33.214, delta: 3.214 })).toBe('Δ +3.21 dB');
    expect(deltaText('scale', { a: 0.1, b: 0.12, delta: 1.2 })).toBe('B/A ×1.200');
    expect(deltaText('scale', { a: null, b: 0.12, delta: null })).toBe('only in B');
  });

  it('the histogram\'s clip range follows the scale of the stage shown', () => {
    const calib = { activations: { n: 0.05 }, weights: {} }, qat = { activations: { n: 0.04 }, weights: {} };
    // int8: clip = scale × [-128, 127].
    expect(stageScalesOf('n', null, calib, 0.05, [-6.4, 6.35]).clip).toEqual([-6.4, 6.35]);
    const q = stageScalesOf('n', null, qat, 0.05, [-6.4, 6.35]);
    expect(q.act).toBe(0.04);
    expect(q.clip![0]).toBeCloseTo(-128 * 0.04, 10);
    expect(q.clip![1]).toBeCloseTo(127 * 0.04, 10);
  });
});

/** WCAG contrast ratio of two #rrggbb colours. */
function contrast(a: string, b: string): number {
  const lum = (h: string) => {
    const c = [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16) / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}
