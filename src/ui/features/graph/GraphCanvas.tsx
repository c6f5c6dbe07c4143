/**
 * React shell of the d3 graph renderer: builds the scene (boxes for the open namespaces), lays it out in the
 * background (a worker for large graphs), draws once per layout keeping the view, recolours cheaply, and brings a
 * node selected elsewhere (deploy table, the other side of a comparison) into view.
 */
import { useEffect, useMemo, useRef, useState, type Ref } from 'react';
import type { ZoomTransform } from 'd3';
import type { ViewGraph } from '../../graph-view/graph-model.ts';
import { requestLayout } from '../../graph-view/layout-client.ts';
import type { Layout } from '../../graph-view/layout.ts';
import type { NsTree } from '../../graph-view/namespaces.ts';
import { renderGraph, type GraphRenderer } from '../../graph-view/render.ts';
import { buildScene, type Scene } from '../../graph-view/scene.ts';

export interface GraphCanvasProps {
  graph: ViewGraph;
  tree: NsTree;
  expanded: ReadonlySet<string>;
  onToggle: (groupId: string) => void;
  /** The group toggled last: the view goes to it after the relayout. */
  toggled?: string | null;
  /** Colour of a box (node or group). */
  color: (id: string) => string;
  selected: string | null;
  /** Boxes to highlight (matches of the search, or the groups holding them). */
  matches: ReadonlySet<string>;
  onSelect: (id: string) => void;
  onEscape?: () => void;
  /** The small line of a node instead of its name (a comparison's delta). */
  subline?: (id: string) => string | null;
  onTransform?: (t: ZoomTransform) => void;
  rendererRef: Ref<GraphRenderer | null>;
  height?: number;
  testId?: string;
  title?: string;
}

export function GraphCanvas(p: GraphCanvasProps) {
  const { graph, tree, expanded, height = 520, testId = 'graph-svg' } = p;
  const box = useRef<HTMLDivElement>(null);
  const svg = useRef<SVGSVGElement>(null);
  const [layout, setLayout] = useState<{ scene: Scene; layout: Layout; ms: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [width, setWidth] = useState(800);
  const r = useRef<GraphRenderer | null>(null);
  const latest = useRef(p);
  latest.current = p;

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

  const scene = useMemo(() => buildScene(graph, tree, expanded), [graph, tree, expanded]);
  useEffect(() => {
    let live = true;
    const t0 = performance.now();
    requestLayout(scene.input)
      .then((l) => { if (live) { setError(null); setLayout({ scene, layout: l, ms: performance.now() - t0 }); } }, (e) => live && setError((e as Error).message));
    return () => { live = false; };
  }, [scene]);

  const drawnGraph = useRef<ViewGraph | null>(null);
  useEffect(() => {
    if (!svg.current || !layout) return;
    const { boxes, edges } = layout.scene;
    const nodeShape = new Map(graph.nodes.map((n) => [n.id, n.shape]));
    const shape = new Map(edges.map((e) => [`${e.from}>${e.to}`, nodeShape.get(e.via) ?? []]));
    // The same graph relaid out (a group opened or closed, a resize) keeps the view; another graph opens fitted.
    const keep = drawnGraph.current === graph ? r.current?.transform() ?? null : null;
    r.current?.destroy();
    const rr = renderGraph(svg.current, layout.layout, {
      width, height, initial: keep,
      label: (id) => { const b = boxes.get(id)!; return b.kind === 'group' ? `group ${b.group!.path}: ${b.name}` : `${id}: ${b.op}`; },
      lines: (id) => { const b = boxes.get(id)!; return { op: b.op, name: (b.kind === 'node' && latest.current.subline?.(id)) || b.name }; },
      isGroup: (id) => boxes.get(id)?.kind === 'group',
      frameLabel: (id) => tree.groups.get(id)?.label ?? id,
      edgeLabel: (e) => { const sh = shape.get(`${e.from}>${e.to}`); return sh?.length ? sh.join('×') : ''; },
      onEscape: () => latest.current.onEscape?.(),
      onToggle: (id) => latest.current.onToggle(id),
      onTransform: (t) => latest.current.onTransform?.(t),
      attrs: (id): Record<string, string> => {
        const b = boxes.get(id)!;
        if (b.kind === 'group') return { 'data-group': b.group!.path, 'data-leaves': String(b.group!.leaves.length) };
        const n = b.node!;
        return {
          'data-dtype': n.dtype, 'data-op': n.op, ...(n.fusedFrom ? { 'data-fused': String(n.fusedFrom.length), 'data-fused-from': n.fusedFrom.join(' ') } : {}),
          ...(n.output ? { 'data-output': n.output.name } : {}),
        };
      },
      color: (id) => latest.current.color(id),
      onSelect: (id) => latest.current.onSelect(id),
    });
    drawnGraph.current = graph;
    r.current = rr;
    const toggled = latest.current.toggled;
    if (toggled && (layout.layout.groups.some((g) => g.id === toggled) || boxes.has(toggled))) rr.focus(toggled);
    const ref = p.rendererRef;
    if (typeof ref === 'function') ref(rr);
    else if (ref) (ref as { current: GraphRenderer | null }).current = rr;
  }, [layout, width, height, p.subline]);
  useEffect(() => () => { r.current?.destroy(); r.current = null; }, []);

  useEffect(() => { r.current?.recolor(p.color); }, [p.color, layout, width]);
  useEffect(() => { r.current?.setSelected(p.selected); }, [p.selected, layout, width]);
  useEffect(() => { r.current?.setMatches(p.matches); }, [p.matches, layout, width]);
  // A node selected elsewhere comes into view (a click or an arrow key in this view has it in view already).
  useEffect(() => {
    const l = layout?.layout, s = p.selected;
    const rr = r.current;
    if (!l || !s || !rr) return;
    const n = l.nodes.find((x) => x.id === s);
    if (!n) return;
    const t = rr.transform();
    const sx = n.x * t.k + t.x, sy = n.y * t.k + t.y;
    if (sx < 0 || sy < 0 || sx > width || sy > height) rr.focus(s);
  }, [p.selected, layout, width, height]);

  const ready = layout?.scene === scene;
  return (
    <div className="graph-canvas" ref={box}>
      {p.title && <div className="graph-canvas-title">{p.title}</div>}
      {error && <div className="error" role="alert">Layout failed: {error}</div>}
      <svg ref={svg} data-testid={testId} data-layout={ready ? 'ready' : 'pending'} data-nodes={ready ? layout.layout.nodes.length : 0}
        data-groups={ready ? layout.layout.groups.length : 0} data-graph-nodes={graph.nodes.length}
        data-layout-ms={layout ? Math.round(layout.ms) : ''} width={width} height={height} role="group" aria-label={`${p.title ?? 'Model graph'}, ${graph.nodes.length} nodes`} />
    </div>
  );
}
