/**
 * The Graph panel: the model before / after fusion, nodes coloured by dtype (from the quantization
 * plan) or by a per-layer metric overlay, with a legend; zoom, pan, fit, search by name; click a
 * node for its details. A synthetic 2 000-node graph is there to try the viewer at scale.
 */
import { useCallback, useId, useMemo, useRef, useState } from 'react';
import { BAND_COLORS, bandOf } from '../../graph-view/metric-bands.ts';
import { buildViewGraph, syntheticGraph, type Dtype } from '../../graph-view/graph-model.ts';
import type { GraphRenderer } from '../../graph-view/render.ts';
import { ANALYSIS_METRICS, METRICS, type ColorBy } from '../../store/graph-slice.ts';
import { useStudio } from '../../studio-context.tsx';
import { GraphCanvas } from './GraphCanvas.tsx';
import { GraphLegend, METRIC_NAMES } from './GraphLegend.tsx';
import { NodeDetails } from './NodeDetails.tsx';
import { useModelGraphs } from './use-model-graph.ts';

const DT_VAR: Record<Dtype, string> = { float: 'var(--dt-float)', int8: 'var(--dt-int8)', int16: 'var(--dt-int16)', int32: 'var(--dt-int32)' };

export function GraphPanel() {
  const view = useStudio((s) => s.graphView);
  const st = {
    setGraphSearch: useStudio((s) => s.setGraphSearch),
    setGraphFused: useStudio((s) => s.setGraphFused),
    setColorBy: useStudio((s) => s.setColorBy),
    selectNode: useStudio((s) => s.selectNode),
  };
  const g = useModelGraphs();
  const [source, setSource] = useState<'model' | 'synthetic'>('model');
  const id = useId();
  const renderer = useRef<GraphRenderer | null>(null);

  const graph = useMemo(() => {
    if (source === 'synthetic') return syntheticGraph(2000);
    return view.fused ? buildViewGraph(g.fused, g.planFused) : buildViewGraph(g.unfused, g.planUnfused);
  }, [source, view.fused, g]);
  const byId = useMemo(() => new Map(graph.nodes.map((n) => [n.id, n])), [graph]);
  const overlay = view.colorBy === 'dtype' ? null : view.overlays[view.colorBy] ?? null;
  const domain = useMemo<[number, number] | null>(() => {
    const v = overlay ? Object.values(overlay).filter(Number.isFinite) : [];
    return v.length ? [Math.min(...v), Math.max(...v)] : null;
  }, [overlay]);
  // Fixed bands (metric-bands.ts), not the model's min-to-max: a healthy model's worst layer is not red.
  const color = useCallback((nid: string) => {
    if (view.colorBy === 'dtype') return DT_VAR[byId.get(nid)?.dtype ?? 'float'];
    const v = overlay?.[nid];
    if (v === undefined || !Number.isFinite(v)) return 'var(--dt-none)';
    return BAND_COLORS[bandOf(view.colorBy, v)];
  }, [view.colorBy, overlay, byId]);
  const bandCounts = useMemo(() => {
    const c: Record<string, number> = {};
    if (view.colorBy !== 'dtype' && overlay) for (const v of Object.values(overlay)) if (Number.isFinite(v)) { const b = bandOf(view.colorBy, v); c[b] = (c[b] ?? 0) + 1; }
    return c;
  }, [view.colorBy, overlay]);
  const matches = useMemo(() => {
    const q = view.search.trim().toLowerCase();
    return new Set(q ? graph.nodes.filter((n) => n.id.toLowerCase().includes(q) || n.op.includes(q)).map((n) => n.id) : []);
  }, [view.search, graph]);
  const counts = useMemo(() => graph.nodes.reduce<Record<string, number>>((c, n) => ({ ...c, [n.dtype]: (c[n.dtype] ?? 0) + 1 }), {}), [graph]);
  const selected = view.selected ? byId.get(view.selected) ?? null : null;
  const model = source === 'model' ? (view.fused ? g.fused : g.unfused) : null;
  const weightParam = selected && model ? model.nodes.find((n) => n.id === selected.id)?.params.weight ?? null : null;
  const fusedCount = graph.nodes.filter((n) => n.fusedFrom).length;

  const onSearch = (q: string) => {
    st.setGraphSearch(q);
    const first = graph.nodes.find((n) => q.trim() && n.id.toLowerCase().includes(q.trim().toLowerCase()));
    if (first) renderer.current?.focus(first.id);
  };

  return (
    <section className="panel" data-testid="panel-graph" aria-labelledby="graph-h">
      <h2 id="graph-h">Graph</h2>
      <div className="graph-toolbar" role="toolbar" aria-label="Graph view">
        <div className="field">
          <label htmlFor={`${id}-src`}>Graph</label>
          <select id={`${id}-src`} data-testid="graph-source" value={source} onChange={(e) => setSource(e.target.value as 'model' | 'synthetic')}>
            <option value="model">the model</option>
            <option value="synthetic">synthetic 2 000 nodes (viewer at scale)</option>
          </select>
        </div>
        <label className="check">
          <input type="checkbox" data-testid="graph-fused" checked={view.fused} disabled={source !== 'model'}
            title={source !== 'model' ? 'Fusion applies to the model; this view shows another graph.' : undefined} onChange={(e) => st.setGraphFused(e.target.checked)} />
          After fusion
        </label>
        <div className="field">
          <label htmlFor={`${id}-color`}>Colour by</label>
          <select id={`${id}-color`} data-testid="graph-color-by" value={view.colorBy} onChange={(e) => st.setColorBy(e.target.value as ColorBy)}>
            <option value="dtype">dtype</option>
            {[...METRICS, ...ANALYSIS_METRICS].map((m) => <option key={m} value={m}>{METRIC_NAMES[m]}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-search`}>Search by name</label>
          <input id={`${id}-search`} type="search" data-testid="graph-search" placeholder="e.g. block1" value={view.search}
            onChange={(e) => onSearch(e.target.value)} data-matches={matches.size} />
        </div>
        <div className="buttons">
          <button type="button" data-testid="graph-zoom-in" aria-label="Zoom in" onClick={() => renderer.current?.zoomBy(1.4)}>+</button>
          <button type="button" data-testid="graph-zoom-out" aria-label="Zoom out" onClick={() => renderer.current?.zoomBy(1 / 1.4)}>−</button>
          <button type="button" data-testid="graph-fit" onClick={() => renderer.current?.fit()}>Fit</button>
        </div>
      </div>
      <p className="hint" data-testid="graph-summary" data-fused-nodes={fusedCount}>
        {graph.nodes.length} nodes, {graph.edges.length} edges{source === 'model' && view.fused ? `; ${fusedCount} fused nodes` : ''}
        {source === 'model' && !g.planFused && ' (no quantization plan: check the Quantize settings)'}
      </p>
      <GraphLegend colorBy={view.colorBy} domain={domain} counts={view.colorBy === 'dtype' ? counts : bandCounts} />
      <div className="graph-grid">
        <GraphCanvas graph={graph} color={color} selected={view.selected} matches={matches} onSelect={st.selectNode} onEscape={() => st.selectNode(null)} rendererRef={renderer} />
        <NodeDetails node={selected} weightParam={weightParam} graph={model} />
      </div>
    </section>
  );
}
