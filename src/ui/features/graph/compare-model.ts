/**
 * What the graph comparison needs, pure: which node of the other side a selection moves to (before / after fusion:
 * a fused node and the nodes it was fused from), and per node the values of two runs and their difference, with
 * fixed, documented thresholds for "changed" (docs/graph-viewer.md).
 */
import type { ViewGraph } from '../../graph-view/graph-model.ts';
import type { RunRecord } from '../../store/runs-slice.ts';
import { layerRows, type LayerMetric } from '../runs/run-compare-model.ts';

export interface FusionPeers {
  /** Node before fusion → the fused node that holds it. */
  toFused: Map<string, string>;
  /** Fused node → the node before fusion it keeps the id of (its anchor). */
  toUnfused: Map<string, string>;
}

export function fusionPeers(unfused: ViewGraph, fused: ViewGraph): FusionPeers {
  const toFused = new Map<string, string>(), toUnfused = new Map<string, string>();
  const before = new Set(unfused.nodes.map((n) => n.id));
  for (const n of fused.nodes) {
    for (const part of n.fusedFrom ?? [n.id]) if (before.has(part)) toFused.set(part, n.id);
    const anchor = n.fusedFrom?.[0] ?? n.id;
    if (before.has(anchor)) toUnfused.set(n.id, anchor);
  }
  return { toFused, toUnfused };
}

export interface NodeDelta { a: number | null; b: number | null; delta: number | null }

/** Per node: run A's and run B's value of `m`, and B − A (for a scale: B / A). */
export function nodeDeltas(a: RunRecord, b: RunRecord, m: LayerMetric): Map<string, NodeDelta> {
  const out = new Map<string, NodeDelta>();
  for (const r of layerRows(a, b, m)) {
    const both = r.a !== null && r.b !== null && Number.isFinite(r.a) && Number.isFinite(r.b);
    out.set(r.name, { a: r.a, b: r.b, delta: both ? (m === 'scale' ? r.b! / r.a! : r.b! - r.a!) : null });
  }
  return out;
}

export type Change = 'better' | 'same' | 'worse' | 'changed';
/**
 * Fixed thresholds: SQNR ±1 dB, cosine ±1e-4, max error ±0.5 LSB count as the same; a scale within 1 % is the
 * same, else changed (a scale is neither better nor worse by itself).
 */
export const SAME_WITHIN: Record<LayerMetric, number> = { sqnr: 1, cosine: 1e-4, maxLsb: 0.5, scale: 0.01 };

export function changeOf(m: LayerMetric, d: NodeDelta): Change | null {
  if (d.delta === null) {
    // Infinite SQNR (the simulator exact) on one side only: the exact side is better.
    if (m === 'sqnr' && d.a !== null && d.b !== null && d.a !== d.b) return d.b === Infinity ? 'better' : d.a === Infinity ? 'worse' : null;
    return null;
  }
  if (m === 'scale') return Math.abs(Math.log(d.delta)) <= Math.log1p(SAME_WITHIN.scale) ? 'same' : 'changed';
  if (Math.abs(d.delta) <= SAME_WITHIN[m]) return 'same';
  const up = d.delta > 0;
  return (m === 'maxLsb' ? !up : up) ? 'better' : 'worse';
}

export const CHANGE_COLORS: Record<Change, string> = { better: '#8fd19e', same: '#e3e8ef', worse: '#f4978e', changed: '#a9c7f5' };

const num = (v: number, m: LayerMetric) => (m === 'cosine' ? v.toFixed(5) : m === 'scale' ? v.toPrecision(3) : v.toFixed(2));
const UNIT: Record<LayerMetric, string> = { sqnr: ' dB', cosine: '', maxLsb: ' LSB', scale: '' };

/** The difference as a node's small line shows it, e.g. "Δ +3.21 dB" or "B/A ×1.08". */
export function deltaText(m: LayerMetric, d: NodeDelta): string {
  if (d.delta === null) {
    if (d.a === null || d.b === null) return d.a === null && d.b === null ? '' : `only in ${d.a === null ? 'B' : 'A'}`;
    return d.a === d.b ? 'Δ 0' : `${d.a === Infinity ? 'exact' : num(d.a, m)} → ${d.b === Infinity ? 'exact' : num(d.b, m)}`;
  }
  if (m === 'scale') return `B/A ×${d.delta.toFixed(3)}`;
  return `Δ ${d.delta >= 0 ? '+' : '−'}${num(Math.abs(d.delta), m)}${UNIT[m]}`;
}
