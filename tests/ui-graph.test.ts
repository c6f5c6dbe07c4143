/** The graph viewer's model (fused nodes, dtypes from the plan) and the dagre layout, timed at 2 000 nodes. */
import { describe, expect, it } from 'vitest';
import { fuse } from '../src/graph/passes/fuse.ts';
import { buildModel } from '../src/models/zoo.ts';
import { initHostParams } from '../src/nn/params.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { buildViewGraph, dtypesOf, syntheticGraph } from '../src/ui/graph-view/graph-model.ts';
import { DAGRE_MAX_NODES, layoutGraph } from '../src/ui/graph-view/layout.ts';

describe('graph view model', () => {
  const g = buildModel('resnet-mini');
  const fused = fuse(g, initHostParams(g, 0)).graph;
  it('shows a fused node as one node naming its parts', () => {
    const v = buildViewGraph(fused, null);
    expect(v.nodes.length).toBeLessThan(g.nodes.length);
    const f = v.nodes.find((n) => n.fusedFrom && n.fusedFrom.length >= 3)!;
    expect(f.label).toMatch(/\[conv\+bn\+relu\]|\+/);
    expect(v.edges.length).toBe(fused.nodes.reduce((s, n) => s + n.inputs.length, 0));
  });
  it('colours by dtype: int8 inside, float outside, int16 by override, int32 for the last layer', () => {
    const qc = qconfigTemplate('default_calibration', { overrides: [{ match: fused.nodes.find((n) => n.op === 'conv2d')!.id, activation: { dtype: 'qint16' } }] });
    const dt = dtypesOf(fused, prepare(fused, qc));
    const values = [...dt.values()];
    expect(values).toContain('int8');
    expect(values).toContain('int16');
    expect(values).toContain('int32');
    expect(dt.get(fused.nodes[0].id)).toBe('float');
    expect([...dtypesOf(fused, null).values()].every((d) => d === 'float')).toBe(true);
  });
});

describe('layout', () => {
  it('lays out a zoo model without overlaps in a rank', () => {
    const v = buildViewGraph(buildModel('mobilenetv2-mini'), null);
    const l = layoutGraph({ nodes: v.nodes, edges: v.edges });
    expect(l.nodes).toHaveLength(v.nodes.length);
    expect(l.nodes.every((n) => Number.isFinite(n.x) && Number.isFinite(n.y))).toBe(true);
    const byY = new Map<number, { x: number; w: number }[]>();
    for (const n of l.nodes) byY.set(n.y, [...(byY.get(n.y) ?? []), n]);
    for (const row of byY.values()) {
      row.sort((a, b) => a.x - b.x);
      for (let i = 1; i < row.length; i++) expect(row[i].x - row[i].w / 2).toBeGreaterThanOrEqual(row[i - 1].x + row[i - 1].w / 2 - 1e-6);
    }
  });
  it('lays out a synthetic 2 000-node graph in reasonable time', () => {
    const v = syntheticGraph(2000);
    const t0 = performance.now();
    const l = layoutGraph({ nodes: v.nodes, edges: v.edges });
    const ms = performance.now() - t0;
    console.log(`layout of 2000 nodes / ${v.edges.length} edges: ${ms.toFixed(0)} ms`);
    expect(l.nodes).toHaveLength(2000);
    expect(l.height).toBeGreaterThan(l.width);
    expect(ms).toBeLessThan(2_000);
    // Ranks follow the edges: every edge points down.
    const y = new Map(l.nodes.map((n) => [n.id, n.y]));
    expect(v.edges.every((e) => y.get(e.to)! > y.get(e.from)!)).toBe(true);
  });
  it('uses dagre up to its size limit (a 400-node chain)', () => {
    const v = syntheticGraph(Math.min(400, DAGRE_MAX_NODES));
    const t0 = performance.now();
    const l = layoutGraph({ nodes: v.nodes, edges: v.edges });
    console.log(`dagre layout of ${v.nodes.length} nodes: ${(performance.now() - t0).toFixed(0)} ms`);
    expect(l.edges.every((e) => e.points.length >= 2)).toBe(true);
  });
});
