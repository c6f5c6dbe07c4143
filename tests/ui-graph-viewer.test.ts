/** The graph viewer's pure parts: fixed metric colour bands, label shortening, arrow-key traversal, node facts. */
import { describe, expect, it } from 'vitest';
import { buildModel } from '../src/models/zoo.ts';
import { bandOf, bandsOf, BAND_COLORS, BAND_TEXT } from '../src/ui/graph-view/metric-bands.ts';
import { fitText, neighbourOf } from '../src/ui/graph-view/render.ts';
import type { Layout } from '../src/ui/graph-view/layout.ts';
import { attributesOf, scaleSourceOf, weightsOf } from '../src/ui/features/graph/node-facts.ts';
import { quantOf } from '../src/ui/features/runs/record-run.ts';
import { DEFAULT_QUANT_SETTINGS } from '../src/ui/store/quant-slice.ts';

/** WCAG contrast ratio of two #rrggbb colours. */
function contrast(a: string, b: string): number {
  const lum = (h: string) => {
    const c = [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16) / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

describe('metric colour bands', () => {
  it('are fixed: SQNR 40 dB and up is healthy whatever the rest of the model', () => {
    expect(bandOf('sqnr', 52)).toBe('healthy');
    expect(bandOf('sqnr', 40)).toBe('healthy');
    expect(bandOf('sqnr', 35)).toBe('fair');
    expect(bandOf('sqnr', 25)).toBe('poor');
    expect(bandOf('sqnr', 12)).toBe('bad');
    expect(bandOf('cosine', 0.99995)).toBe('healthy');
    expect(bandOf('cosine', 0.98)).toBe('bad');
    expect(bandOf('maxLsb', 1)).toBe('healthy');
    expect(bandOf('maxLsb', 3)).toBe('poor');
    expect(bandOf('maxLsb', 9)).toBe('bad');
    expect(bandsOf('sqnr').map((b) => b.range)).toEqual(['≥ 40 dB', '30 – 40 dB', '20 – 30 dB', '< 20 dB']);
  });
  it('carry readable text (contrast at least 7:1)', () => {
    for (const c of Object.values(BAND_COLORS)) expect(contrast(c, BAND_TEXT)).toBeGreaterThanOrEqual(7);
  });
});

describe('node labels and traversal', () => {
  it('shortens a name in the middle to fit its box', () => {
    expect(fitText('conv1', 100, 5.5)).toBe('conv1');
    const s = fitText('features.16.conv.2.weight_quant', 60, 5.5);
    expect(s.length).toBe(10);
    expect(s).toBe('featu…uant');
  });
  it('arrow keys follow edges down and up, and move along a row', () => {
    const node = (id: string, x: number, y: number) => ({ id, x, y, w: 40, h: 20 });
    const layout: Layout = {
      nodes: [node('a', 100, 10), node('b', 60, 60), node('c', 140, 60), node('d', 100, 110)], width: 200, height: 130,
      edges: [{ from: 'a', to: 'b', points: [] }, { from: 'a', to: 'c', points: [] }, { from: 'b', to: 'd', points: [] }, { from: 'c', to: 'd', points: [] }], groups: [],
    };
    expect(neighbourOf(layout, 'a', 'ArrowDown')).toBe('b'); // equally far: the first edge
    expect(neighbourOf(layout, 'b', 'ArrowRight')).toBe('c');
    expect(neighbourOf(layout, 'c', 'ArrowLeft')).toBe('b');
    expect(neighbourOf(layout, 'c', 'ArrowRight')).toBeNull();
    expect(neighbourOf(layout, 'd', 'ArrowUp')).toBe('b');
    expect(neighbourOf(layout, 'a', 'ArrowUp')).toBeNull();
  });
});

describe('node facts', () => {
  it('lists a conv node\'s attributes and weight tensors from the graph', () => {
    const g = buildModel('cnn-small');
    const conv = g.nodes.find((n) => n.op === 'conv2d')!;
    const w = g.params.find((p) => p.name === conv.params.weight)!;
    const facts = Object.fromEntries(attributesOf(conv, g).map((f) => [f.key, f.value]));
    expect(facts.kernel).toBe(`${w.shape[2]}×${w.shape[3]}`);
    expect(facts.stride).toBe(`${conv.attrs.conv!.strideH}×${conv.attrs.conv!.strideW}`);
    expect(facts.groups).toBe(String(conv.attrs.conv!.groups));
    expect(weightsOf(conv, g).find((t) => t.role === 'weight')).toEqual({ role: 'weight', name: w.name, shape: w.shape });
  });
  it('says which stage and observer a scale comes from', () => {
    const run = { id: 'r', name: 'Calibration 1', kind: 'calib' as const, at: 0, acc1: 1, acc5: 1, seconds: 1, quant: quantOf({ ...DEFAULT_QUANT_SETTINGS, observer: 'percentile' }) };
    expect(scaleSourceOf('conv1', 'calib', [run])).toBe('calibrated model (Calibration 1): observer percentile (default_calibration)');
    const byTemplate = { ...run, quant: { ...run.quant, observer: '' } };
    expect(scaleSourceOf('conv1', 'calib', [byTemplate])).toMatch(/^calibrated model \(Calibration 1\): observer \w+ \(default_calibration\)$/);
    expect(scaleSourceOf('conv1', 'calib', [byTemplate])).not.toContain('template default');
    expect(scaleSourceOf('conv1', null, [run])).toBeNull();
  });
});
