/**
 * Two graphs side by side with one selection: before / after fusion (a node selected on one side selects the
 * fused node that holds it, or its anchor, on the other), or the fused graph under two runs A and B (the Runs
 * step's pick): A coloured by its own value, B by the change from A with the difference written in each node, the
 * two views panning and zooming together; the details list A, B and the difference.
 */
import { useCallback, useId, useMemo, useRef, useState } from 'react';
import { NO_VALUE } from '../../graph-view/box-colors.ts';
import type { ViewGraph } from '../../graph-view/graph-model.ts';
import { BAND_COLORS, bandOf } from '../../graph-view/metric-bands.ts';
import { ancestorsOf } from '../../graph-view/namespaces.ts';
import type { GraphRenderer } from '../../graph-view/render.ts';
import { useStudio } from '../../studio-context.tsx';
import { layerMetricsOf, type LayerMetric } from '../runs/run-compare-model.ts';
import { changeOf, CHANGE_COLORS, deltaText, fusionPeers, nodeDeltas, type Change } from './compare-model.ts';
import { GraphCanvas } from './GraphCanvas.tsx';
import { NodeDetails } from './NodeDetails.tsx';
import { useBoxColor, useNodeColor } from './use-box-colors.ts';
import { useGroups } from './use-groups.ts';
import type { ModelGraphs } from './use-model-graph.ts';

const METRIC_NAME: Record<LayerMetric, string> = { sqnr: 'SQNR (dB)', cosine: 'cosine', maxLsb: 'max error (LSB)', scale: 'activation scale' };
const CHANGE_NAME: Record<Change, string> = { better: 'better in B', same: 'the same', worse: 'worse in B', changed: 'changed' };

interface Props { mode: 'fusion' | 'runs'; unfused: ViewGraph; fused: ViewGraph; graphs: ModelGraphs; matches: readonly string[] }

export function GraphCompare(p: Props) {
  return p.mode === 'fusion' ? <FusionCompare {...p} /> : <RunsCompare {...p} />;
}

function FitBoth({ a, b }: { a: { current: GraphRenderer | null }; b: { current: GraphRenderer | null } }) {
  return (
    <div className="buttons">
      <button type="button" data-testid="graph-compare-fit" onClick={() => { a.current?.fit(); b.current?.fit(); }}>Fit both</button>
    </div>
  );
}

function useSide(graph: ViewGraph, selected: string | null, matches: readonly string[]) {
  const view = useStudio((s) => s.graphView);
  const selectNode = useStudio((s) => s.selectNode);
  const deselect = useCallback(() => selectNode(null), [selectNode]);
  const groups = useGroups(graph, view.grouped, selected, deselect);
  const overlay = view.colorBy === 'dtype' ? null : view.overlays[view.colorBy] ?? null;
  const nodeColor = useNodeColor(graph, view.colorBy, overlay);
  const color = useBoxColor(groups.tree, nodeColor, view.colorBy !== 'dtype');
  const own = useMemo(() => new Set(graph.nodes.map((n) => n.id)), [graph]);
  const hits = useMemo(() => new Set(matches.filter((m) => own.has(m)).flatMap((h) => [h, ...ancestorsOf(groups.tree, h)])), [matches, own, groups.tree]);
  return { groups, color, hits, selectNode, deselect };
}

function FusionCompare({ unfused, fused, graphs, matches }: Props) {
  const selected = useStudio((s) => s.graphView.selected);
  const peers = useMemo(() => fusionPeers(unfused, fused), [unfused, fused]);
  const inBefore = useMemo(() => new Set(unfused.nodes.map((n) => n.id)), [unfused]);
  const inAfter = useMemo(() => new Set(fused.nodes.map((n) => n.id)), [fused]);
  const left = selected && (inBefore.has(selected) ? selected : peers.toUnfused.get(selected) ?? null);
  const right = selected && (peers.toFused.get(selected) ?? (inAfter.has(selected) ? selected : null));
  const a = useSide(unfused, left, matches), b = useSide(fused, right, matches);
  const ra = useRef<GraphRenderer | null>(null), rb = useRef<GraphRenderer | null>(null);
  const node = right ? fused.nodes.find((n) => n.id === right) ?? null : null;
  const before = left ? unfused.nodes.find((n) => n.id === left) ?? null : null;
  return (
    <div className="graph-compare" data-testid="graph-compare-view" data-mode="fusion">
      <FitBoth a={ra} b={rb} />
      <div className="graph-compare-sides">
        <GraphCanvas title={`Before fusion (${unfused.nodes.length} nodes)`} testId="graph-svg-a" graph={unfused} tree={a.groups.tree} expanded={a.groups.expanded}
          onToggle={a.groups.toggle} toggled={a.groups.toggled} color={a.color} selected={left} matches={a.hits} onSelect={a.selectNode} onEscape={a.deselect} rendererRef={ra} height={480} />
        <GraphCanvas title={`After fusion (${fused.nodes.length} nodes)`} testId="graph-svg-b" graph={fused} tree={b.groups.tree} expanded={b.groups.expanded}
          onToggle={b.groups.toggle} toggled={b.groups.toggled} color={b.color} selected={right} matches={b.hits} onSelect={b.selectNode} onEscape={b.deselect} rendererRef={rb} height={480} />
      </div>
      <NodeDetails node={node ?? before} graph={node ? graphs.fused : graphs.unfused}
        extra={before && node && before.id !== node.id ? <p className="hint" data-testid="compare-peer">{before.id} ({before.op}) is part of the fused node {node.id}.</p> : null} />
    </div>
  );
}

function RunsCompare({ fused, graphs, matches }: Props) {
  const id = useId();
  const [ia, ib] = useStudio((s) => s.runs.compare);
  const list = useStudio((s) => s.runs.list);
  const setCompare = useStudio((s) => s.setCompare);
  const selected = useStudio((s) => s.graphView.selected);
  const [metric, setMetric] = useState<LayerMetric | ''>('');
  const ra = list.find((r) => r.id === ia) ?? null, rb = list.find((r) => r.id === ib) ?? null;
  const metrics = ra && rb ? layerMetricsOf(ra, rb) : [];
  const m = metric && metrics.includes(metric) ? metric : metrics[0] ?? null;
  const deltas = useMemo(() => (ra && rb && m ? nodeDeltas(ra, rb, m) : new Map()), [ra, rb, m]);
  const side = useSide(fused, selected, matches);
  const { tree } = side.groups;
  const leftNode = useCallback((nid: string) => {
    const d = deltas.get(nid);
    if (!m || m === 'scale' || !d || d.a === null || !Number.isFinite(d.a)) return d?.a === Infinity ? BAND_COLORS.healthy : NO_VALUE;
    return BAND_COLORS[bandOf(m, d.a)];
  }, [deltas, m]);
  const rightNode = useCallback((nid: string) => {
    const d = deltas.get(nid);
    const c = m && d ? changeOf(m, d) : null;
    return c ? CHANGE_COLORS[c] : NO_VALUE;
  }, [deltas, m]);
  const leftBands = useBoxColor(tree, leftNode, true);
  // A scale is neither good nor bad: A keeps the panel's colours (dtype or the chosen metric).
  const leftColor = m === 'scale' ? side.color : leftBands;
  const rightColor = useBoxColor(tree, rightNode, true);
  const subline = useCallback((nid: string) => { const d = deltas.get(nid); return m && d ? deltaText(m, d) || null : null; }, [deltas, m]);
  const counts = useMemo(() => {
    const c: Partial<Record<Change, number>> = {};
    for (const d of deltas.values()) { const x = m ? changeOf(m, d) : null; if (x) c[x] = (c[x] ?? 0) + 1; }
    return c;
  }, [deltas, m]);
  const rA = useRef<GraphRenderer | null>(null), rB = useRef<GraphRenderer | null>(null);
  const node = selected ? fused.nodes.find((n) => n.id === selected) ?? null : null;
  const d = node ? deltas.get(node.id) : undefined;
  const fmt = (v: number | null) => (v === null ? '–' : v === Infinity ? 'exact' : v.toPrecision(4));
  return (
    <div className="graph-compare" data-testid="graph-compare-view" data-mode="runs" data-a={ra?.id ?? ''} data-b={rb?.id ?? ''} data-metric={m ?? ''}>
      <div className="graph-toolbar" role="group" aria-label="Runs compared">
        {([0, 1] as const).map((slot) => (
          <div className="field" key={slot}>
            <label htmlFor={`${id}-${slot}`}>Run {slot ? 'B' : 'A'}</label>
            <select id={`${id}-${slot}`} data-testid={`graph-run-${slot ? 'b' : 'a'}`} value={(slot ? ib : ia) ?? ''} onChange={(e) => setCompare(slot, e.target.value || null)}>
              <option value="">–</option>
              {list.map((r) => <option key={r.id} value={r.id}>{r.name}</option>)}
            </select>
          </div>
        ))}
        {metrics.length > 0 && (
          <div className="field">
            <label htmlFor={`${id}-m`}>Per node</label>
            <select id={`${id}-m`} data-testid="graph-compare-metric" value={m ?? ''} onChange={(e) => setMetric(e.target.value as LayerMetric)}>
              {metrics.map((x) => <option key={x} value={x}>{METRIC_NAME[x]}</option>)}
            </select>
          </div>
        )}
      </div>
      <FitBoth a={rA} b={rB} />
      {!(ra && rb) && <p className="hint" data-testid="graph-compare-hint">{list.length < 2 ? 'Two runs are needed: calibrate (or run QAT) twice; every run is kept in step Runs.' : 'Pick a run as A and another as B.'}</p>}
      {ra && rb && (
        <ul className="legend graph-legend" data-testid="graph-compare-legend">
          {(m === 'scale' ? ['same', 'changed'] as const : ['better', 'same', 'worse'] as const).map((c) => (
            <li key={c} data-testid={`compare-change-${c}`} data-count={counts[c] ?? 0}><span className="swatch node-swatch" style={{ background: CHANGE_COLORS[c] }} />{CHANGE_NAME[c]} ({counts[c] ?? 0})</li>
          ))}
          <li className="hint">A: {m === 'scale' ? 'the panel\'s colours' : `coloured by its ${METRIC_NAME[m!]} band`}; B: by the change from A (thresholds in docs/graph-viewer.md)</li>
        </ul>
      )}
      <div className="graph-compare-sides">
        <GraphCanvas title={`A: ${ra?.name ?? '–'}`} testId="graph-svg-a" graph={fused} tree={tree} expanded={side.groups.expanded} onToggle={side.groups.toggle} toggled={side.groups.toggled}
          color={leftColor} selected={selected} matches={side.hits} onSelect={side.selectNode} onEscape={side.deselect} rendererRef={rA} height={480}
          onTransform={(t) => rB.current?.setTransform(t)} />
        <GraphCanvas title={`B: ${rb?.name ?? '–'} (change from A)`} testId="graph-svg-b" graph={fused} tree={tree} expanded={side.groups.expanded} onToggle={side.groups.toggle} toggled={side.groups.toggled}
          color={rightColor} selected={selected} matches={side.hits} onSelect={side.selectNode} onEscape={side.deselect} rendererRef={rB} height={480}
          subline={subline} onTransform={(t) => rA.current?.setTransform(t)} />
      </div>
      <NodeDetails node={node} graph={graphs.fused} extra={node && m && (
        <table className="results" data-testid="compare-node" data-a={d?.a ?? ''} data-b={d?.b ?? ''} data-delta={d?.delta ?? ''}>
          <thead><tr><th scope="col">{METRIC_NAME[m]}</th><th scope="col">A</th><th scope="col">B</th><th scope="col">{m === 'scale' ? 'B / A' : 'B − A'}</th></tr></thead>
          <tbody><tr><td>{node.id}</td><td>{fmt(d?.a ?? null)}</td><td>{fmt(d?.b ?? null)}</td><td>{d ? deltaText(m, d) || '–' : '–'}</td></tr></tbody>
        </table>
      )} />
    </div>
  );
}
