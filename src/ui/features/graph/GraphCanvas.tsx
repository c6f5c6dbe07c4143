/** React shell of the d3 graph renderer: lays out in the background, draws once per layout, recolours cheaply. */
import { useEffect, useRef, useState, type Ref } from 'react';
import type { ViewGraph } from '../../graph-view/graph-model.ts';
import { requestLayout } from '../../graph-view/layout-client.ts';
import { twoLineWidth, type Layout } from '../../graph-view/layout.ts';
import { renderGraph, type GraphRenderer } from '../../graph-view/render.ts';

export interface GraphCanvasProps {
  graph: ViewGraph;
  color: (id: string) => string;
  selected: string | null;
  matches: ReadonlySet<string>;
  onSelect: (id: string) => void;
  onEscape?: () => void;
  rendererRef: Ref<GraphRenderer | null>;
  height?: number;
}

export function GraphCanvas({ graph, color, selected, matches, onSelect, onEscape, rendererRef, height = 520 }: GraphCanvasProps) {
  const box = useRef<HTMLDivElement>(null);
  const svg = useRef<SVGSVGElement>(null);
  const [layout, setLayout] = useState<{ graph: ViewGraph; layout: Layout; ms: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [width, setWidth] = useState(800);
  const r = useRef<GraphRenderer | null>(null);
  const latest = useRef({ color, onSelect, onEscape });
  latest.current = { color, onSelect, onEscape };

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver((e) => {
      const w = Math.floor(e[0]?.contentRect.width ?? 0);
      if (w > 0) setWidth(w);
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    let live = true;
    const t0 = performance.now();
    requestLayout({ nodes: graph.nodes.map((n) => ({ id: n.id, label: `${n.id}: ${n.label}`, width: twoLineWidth(n.label, n.id) })), edges: graph.edges })
      .then((l) => live && setLayout({ graph, layout: l, ms: performance.now() - t0 }), (e) => live && setError((e as Error).message));
    return () => { live = false; };
  }, [graph]);

  useEffect(() => {
    if (!svg.current || !layout) return;
    const byId = new Map(layout.graph.nodes.map((n) => [n.id, n]));
    const rr = renderGraph(svg.current, layout.layout, {
      width, height,
      label: (id) => { const n = byId.get(id)!; return `${id}: ${n.label}`; },
      lines: (id) => ({ op: byId.get(id)!.label, name: id }),
      edgeLabel: (from) => { const sh = byId.get(from)?.shape; return sh?.length ? sh.join('×') : ''; },
      onEscape: () => latest.current.onEscape?.(),
      attrs: (id) => { const n = byId.get(id)!; return { 'data-dtype': n.dtype, 'data-op': n.op, ...(n.fusedFrom ? { 'data-fused': String(n.fusedFrom.length), 'data-fused-from': n.fusedFrom.join(' ') } : {}) }; },
      color: (id) => latest.current.color(id),
      onSelect: (id) => latest.current.onSelect(id),
    });
    r.current = rr;
    if (typeof rendererRef === 'function') rendererRef(rr);
    else if (rendererRef) (rendererRef as { current: GraphRenderer | null }).current = rr;
    return () => rr.destroy();
  }, [layout, width, height, rendererRef]);

  useEffect(() => { r.current?.recolor(color); }, [color, layout, width]);
  useEffect(() => { r.current?.setSelected(selected); }, [selected, layout, width]);
  useEffect(() => { r.current?.setMatches(matches); }, [matches, layout, width]);

  const ready = layout?.graph === graph;
  return (
    <div className="graph-canvas" ref={box}>
      {error && <div className="error" role="alert">Layout failed: {error}</div>}
      <svg ref={svg} data-testid="graph-svg" data-layout={ready ? 'ready' : 'pending'} data-nodes={ready ? layout.layout.nodes.length : 0}
        data-layout-ms={layout ? Math.round(layout.ms) : ''} width={width} height={height} role="group" aria-label={`Model graph, ${graph.nodes.length} nodes`} />
    </div>
  );
}
