/**
 * The Graph panel: the model before / after fusion, its namespaces as collapsible groups (a large model opens as
 * its blocks), nodes coloured by dtype (from the quantization plan) or by a per-layer metric's fixed bands, with a
 * legend; zoom, pan, Fit, search by name; click a node for its details; or two graphs side by side (GraphCompare).
 * A synthetic 2 000-node graph is there to try the viewer at scale.
 */
import { useCallback, useId, useMemo, useRef, useState } from 'react';
import { buildViewGraph, syntheticGraph } from '../../graph-view/graph-model.ts';
import { ancestorsOf, isGroupId, representativeOf } from '../../graph-view/namespaces.ts';
import type { GraphRenderer } from '../../graph-view/render.ts';
import { bandOf } from '../../graph-view/metric-bands.ts';
import { ANALYSIS_METRICS, METRICS, type ColorBy, type GraphCompare as CompareMode } from '../../store/graph-slice.ts';
import { useStudio } from '../../studio-context.tsx';
import { GraphCanvas } from './GraphCanvas.tsx';
import { GraphCompare } from './GraphCompare.tsx';
import { GraphLegend, METRIC_NAMES } from './GraphLegend.tsx';
import { GroupDetails } from './GroupDetails.tsx';
import { NodeDetails } from './NodeDetails.tsx';
import { useBoxColor, useNodeColor } from './use-box-colors.ts';
import { useGroups } from './use-groups.ts';
import { useModelGraphs } from './use-model-graph.ts';
import './graph-viewer.css';

/** Search: nodes whose name or op holds the text, and the groups around them (a closed group shows it holds one). */
export function searchMatches(nodes: readonly { id: string; op: string }[], q: string): string[] {
  const t = q.trim().toLowerCase();
  return t ? nodes.filter((n) => n.id.toLowerCase().includes(t) || n.op.includes(t)).map((n) => n.id) : [];
}

export function GraphPanel() {
  const view = useStudio((s) => s.graphView);
  const st = {
    setGraphSearch: useStudio((s) => s.setGraphSearch),
    setGraphFused: useStudio((s) => s.setGraphFused),
    setGraphGrouped: useStudio((s) => s.setGraphGrouped),
    setGraphCompare: useStudio((s) => s.setGraphCompare),
    setColorBy: useStudio((s) => s.setColorBy),
    selectNode: useStudio((s) => s.selectNode),
  };
  const g = useModelGraphs();
  const [source, setSource] = useState<'model' | 'synthetic'>('model');
  const id = useId();
  const renderer = useRef<GraphRenderer | null>(null);

  const unfused = useMemo(() => buildViewGraph(g.unfused, g.planUnfused), [g]);
  const fused = useMemo(() => buildViewGraph(g.fused, g.planFused), [g]);
  const synthetic = useMemo(() => (source === 'synthetic' ? syntheticGraph(2000) : null), [source]);
  const graph = synthetic ?? (view.fused ? fused : unfused);
  const compare: CompareMode = source === 'model' ? view.compare : 'none';
  const selectNode = st.selectNode;
  const deselect = useCallback(() => selectNode(null), [selectNode]);
  const groups = useGroups(graph, view.grouped, view.selected, deselect);

  const overlay = view.colorBy === 'dtype' ? null : view.overlays[view.colorBy] ?? null;
  const domain = useMemo<[number, number] | null>(() => {
    const v = overlay ? Object.values(overlay).filter(Number.isFinite) : [];
    return v.length ? [Math.min(...v), Math.max(...v)] : null;
  }, [overlay]);
  const nodeColor = useNodeColor(graph, view.colorBy, overlay);
  const color = useBoxColor(groups.tree, nodeColor, view.colorBy !== 'dtype');
  const bandCounts = useMemo(() => {
    const c: Record<string, number> = {};
    if (view.colorBy !== 'dtype' && overlay) for (const v of Object.values(overlay)) if (Number.isFinite(v)) { const b = bandOf(view.colorBy, v); c[b] = (c[b] ?? 0) + 1; }
    return c;
  }, [view.colorBy, overlay]);
  const hits = useMemo(() => searchMatches(graph.nodes, view.search), [view.search, graph]);
  const matches = useMemo(() => new Set(hits.flatMap((h) => [h, ...ancestorsOf(groups.tree, h)])), [hits, groups.tree]);
  const counts = useMemo(() => graph.nodes.reduce<Record<string, number>>((c, n) => ({ ...c, [n.dtype]: (c[n.dtype] ?? 0) + 1 }), {}), [graph]);
  const byId = useMemo(() => new Map(graph.nodes.map((n) => [n.id, n])), [graph]);
  const selected = view.selected ? byId.get(view.selected) ?? null : null;
  const selectedGroup = view.selected && isGroupId(view.selected) ? groups.tree.groups.get(view.selected) ?? null : null;
  const model = source === 'model' ? (view.fused ? g.fused : g.unfused) : null;
  const fusedCount = graph.nodes.filter((n) => n.fusedFrom).length;

  const onSearch = (q: string) => {
    st.setGraphSearch(q);
    const first = searchMatches(graph.nodes, q)[0];
    if (first) renderer.current?.focus(representativeOf(groups.tree, groups.expanded, first));
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
        <div className="field">
          <label htmlFor={`${id}-cmp`}>Side by side</label>
          <select id={`${id}-cmp`} data-testid="graph-compare" value={compare} disabled={source !== 'model'}
            title={source !== 'model' ? 'Comparisons are of the model, not the synthetic graph' : undefined}
            onChange={(e) => st.setGraphCompare(e.target.value as CompareMode)}>
            <option value="none">one graph</option>
            <option value="fusion">before / after fusion</option>
            <option value="runs">two runs (A / B)</option>
          </select>
        </div>
        <label className="check" title={source !== 'model' || compare !== 'none' ? 'The comparison shows both sides' : undefined}>
          <input type="checkbox" data-testid="graph-fused" checked={view.fused} disabled={source !== 'model' || compare !== 'none'} onChange={(e) => st.setGraphFused(e.target.checked)} />
          After fusion
        </label>
        <label className="check">
          <input type="checkbox" data-testid="graph-groups" checked={view.grouped} onChange={(e) => st.setGraphGrouped(e.target.checked)} />
          Group by module
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
            onChange={(e) => onSearch(e.target.value)} data-matches={hits.length} />
        </div>
        {compare === 'none' && (
          <div className="buttons">
            <button type="button" data-testid="graph-zoom-in" aria-label="Zoom in" onClick={() => renderer.current?.zoomBy(1.4)}>+</button>
            <button type="button" data-testid="graph-zoom-out" aria-label="Zoom out" onClick={() => renderer.current?.zoomBy(1 / 1.4)}>−</button>
            <button type="button" data-testid="graph-fit" onClick={() => renderer.current?.fit()}>Fit</button>
            <button type="button" data-testid="graph-expand-all" disabled={!groups.tree.groups.size} onClick={groups.expandAll}>Expand all</button>
            <button type="button" data-testid="graph-collapse-all" disabled={!groups.tree.groups.size} onClick={groups.collapseAll}>Collapse all</button>
          </div>
        )}
      </div>
      <p className="hint" data-testid="graph-summary" data-fused-nodes={fusedCount} data-groups={groups.tree.groups.size}>
        {graph.nodes.length} nodes, {graph.edges.length} edges{source === 'model' && view.fused ? `; ${fusedCount} fused nodes` : ''}
        {groups.tree.groups.size > 0 && `; ${groups.tree.groups.size} module groups (click a group to open it, its header to close it)`}
        {source === 'model' && !g.planFused && ' (no quantization plan: check the Quantize settings)'}
      </p>
      <GraphLegend colorBy={view.colorBy} domain={domain} counts={view.colorBy === 'dtype' ? counts : bandCounts} />
      {compare !== 'none'
        ? <GraphCompare mode={compare} unfused={unfused} fused={fused} graphs={g} matches={hits} />
        : (
          <div className="graph-grid">
            <GraphCanvas graph={graph} tree={groups.tree} expanded={groups.expanded} onToggle={groups.toggle} toggled={groups.toggled}
              color={color} selected={view.selected} matches={matches} onSelect={st.selectNode} onEscape={deselect} rendererRef={renderer} />
            {selectedGroup
              ? <GroupDetails group={selectedGroup} nodes={byId} onOpen={() => groups.toggle(selectedGroup.id)} />
              : <NodeDetails node={selected} graph={model} />}
          </div>
        )}
    </section>
  );
}
