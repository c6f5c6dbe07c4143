/**
 * Draws a laid-out graph with d3 into an <svg> (no React): a rect per node with its op (large) and its name
 * (small, shortened to fit) inside, one path per edge with the tensor shape it carries, pan and zoom with d3-zoom,
 * labels hidden when zoomed far out (large graphs stay usable), a minimap, Fit (the whole graph), zoom to a node,
 * and keyboard traversal (arrows follow edges and siblings, Escape closes the details). Colours come from a
 * function (dtype or an overlay), so a recolour touches only the rects' fill.
 */
import { line, select, zoom, zoomIdentity, type Selection, type ZoomBehavior } from 'd3';
import type { Layout, LayoutNode } from './layout.ts';
import { drawMinimap } from './minimap.ts';

export interface GraphRenderer {
  fit(): void;
  zoomBy(k: number): void;
  focus(id: string): void;
  setSelected(id: string | null): void;
  setMatches(ids: ReadonlySet<string>): void;
  recolor(color: (id: string) => string): void;
  destroy(): void;
}

export interface RenderOptions {
  width: number;
  height: number;
  /** The accessible name of a node. */
  label: (id: string) => string;
  /** The large line (op, with fused parts) and the small line (the node's name). */
  lines?: (id: string) => { op: string; name: string };
  /** The tensor an edge carries (e.g. "16×14×14"), drawn at its middle; '' for none. */
  edgeLabel?: (from: string) => string;
  attrs: (id: string) => Record<string, string>;
  color: (id: string) => string;
  onSelect: (id: string) => void;
  /** Escape on a node (the panel closes the details). */
  onEscape?: () => void;
  /** Nodes are focusable (Tab / Enter / arrows) below this count. */
  focusableBelow?: number;
}

const path = line();
/** Fits `s` into `w` pixels at ~`px` pixels a character, with an ellipsis in the middle when it does not. */
export function fitText(s: string, w: number, px: number): string {
  const n = Math.max(3, Math.floor(w / px));
  if (s.length <= n) return s;
  const head = Math.ceil((n - 1) / 2), tail = Math.floor((n - 1) / 2);
  return `${s.slice(0, head)}…${s.slice(s.length - tail)}`;
}

/** The node an arrow key leads to: down / up along the first outgoing / incoming edge, left / right to the neighbour in the row. */
export function neighbourOf(layout: Layout, id: string, key: string): string | null {
  const n = layout.nodes.find((x) => x.id === id);
  if (!n) return null;
  if (key === 'ArrowDown' || key === 'ArrowUp') {
    const next = layout.edges.filter((e) => (key === 'ArrowDown' ? e.from === id : e.to === id)).map((e) => (key === 'ArrowDown' ? e.to : e.from));
    const nodes = next.map((x) => layout.nodes.find((m) => m.id === x)!).filter(Boolean).sort((a, b) => Math.abs(a.x - n.x) - Math.abs(b.x - n.x));
    return nodes[0]?.id ?? null;
  }
  if (key === 'ArrowLeft' || key === 'ArrowRight') {
    const row = layout.nodes.filter((m) => Math.abs(m.y - n.y) < 1 && m.id !== id && (key === 'ArrowRight' ? m.x > n.x : m.x < n.x));
    row.sort((a, b) => Math.abs(a.x - n.x) - Math.abs(b.x - n.x));
    return row[0]?.id ?? null;
  }
  return null;
}

export function renderGraph(el: SVGSVGElement, layout: Layout, o: RenderOptions): GraphRenderer {
  const svg = select(el).attr('viewBox', `0 0 ${o.width} ${o.height}`);
  svg.selectAll('*').remove();
  const root = svg.append('g').attr('class', 'viewport');
  const edgeG = root.append('g').attr('class', 'edges');
  edgeG.selectAll('path').data(layout.edges).join('path')
    .attr('d', (e) => path(e.points) ?? '').attr('marker-end', layout.nodes.length < 600 ? 'url(#arrow)' : null);
  if (o.edgeLabel && layout.edges.length < 400) {
    const mid = (pts: [number, number][]) => {
      const a = pts[Math.floor((pts.length - 1) / 2)], b = pts[Math.ceil((pts.length - 1) / 2)];
      return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
    };
    edgeG.selectAll('text.edge-label').data(layout.edges.filter((e) => e.points.length && o.edgeLabel!(e.from))).join('text')
      .attr('class', 'edge-label').attr('data-from', (e) => e.from).attr('data-to', (e) => e.to)
      .attr('x', (e) => mid(e.points)[0] + 4).attr('y', (e) => mid(e.points)[1]).attr('dy', '0.35em').text((e) => o.edgeLabel!(e.from));
  }
  svg.append('defs').html('<marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0L8,4L0,8z" class="arrow"/></marker>');
  const focusable = layout.nodes.length < (o.focusableBelow ?? 400);
  const nodes: Selection<SVGGElement, LayoutNode, SVGGElement, unknown> = root.append('g').attr('class', 'nodes')
    .selectAll<SVGGElement, LayoutNode>('g.node').data(layout.nodes, (d) => d.id).join('g')
    .attr('class', 'node').attr('transform', (d) => `translate(${d.x - d.w / 2},${d.y - d.h / 2})`)
    .attr('data-id', (d) => d.id).attr('tabindex', focusable ? 0 : null).attr('role', focusable ? 'button' : null)
    .attr('aria-label', (d) => o.label(d.id))
    .each(function (d) {
      const a = o.attrs(d.id);
      for (const [k, v] of Object.entries(a)) this.setAttribute(k, v);
    })
    .on('click', (_e, d) => o.onSelect(d.id))
    .on('keydown', (e: KeyboardEvent, d) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        o.onSelect(d.id);
      } else if (e.key === 'Escape') {
        e.preventDefault();
        o.onEscape?.();
      } else if (e.key.startsWith('Arrow')) {
        const next = neighbourOf(layout, d.id, e.key);
        if (!next) return;
        e.preventDefault();
        o.onSelect(next);
        api.focus(next);
        (el.querySelector(`g.node[data-id="${CSS.escape(next)}"]`) as SVGGElement | null)?.focus();
      }
    });
  nodes.append('rect').attr('width', (d) => d.w).attr('height', (d) => d.h).attr('rx', 4).style('fill', (d) => o.color(d.id));
  const lines = o.lines ?? ((id: string) => ({ op: o.label(id), name: '' }));
  nodes.append('text').attr('class', 'op').attr('x', (d) => d.w / 2).attr('y', (d) => (lines(d.id).name ? d.h / 2 - 6 : d.h / 2)).attr('dy', '0.35em')
    .text((d) => fitText(lines(d.id).op, d.w - 10, 7));
  nodes.filter((d) => !!lines(d.id).name).append('text').attr('class', 'name').attr('x', (d) => d.w / 2).attr('y', (d) => d.h / 2 + 8).attr('dy', '0.35em')
    .text((d) => fitText(lines(d.id).name, d.w - 10, 5.5));

  const byId = new Map(layout.nodes.map((n) => [n.id, n]));
  const mini = layout.nodes.length > 1
    ? drawMinimap(el, layout, o, 120, (x, y) => svg.call(zb.transform, zoomIdentity.translate(o.width / 2 - x * cur(), o.height / 2 - y * cur()).scale(cur())))
    : null;
  let k0 = 1;
  const cur = () => k0;
  const zb: ZoomBehavior<SVGSVGElement, unknown> = zoom<SVGSVGElement, unknown>().scaleExtent([0.01, 4]).on('zoom', (ev) => {
    k0 = ev.transform.k;
    root.attr('transform', ev.transform.toString());
    svg.classed('lod-low', ev.transform.k < 0.45).attr('data-zoom', ev.transform.k.toFixed(3));
    mini?.update(ev.transform);
  });
  svg.call(zb).on('dblclick.zoom', null);
  const fitAll = () => {
    // The whole graph in view, however tall (labels hide below 0.45; zoom in to read them).
    const k = Math.min(2, 0.95 * Math.min(o.width / Math.max(1, layout.width), o.height / Math.max(1, layout.height)));
    svg.call(zb.transform, zoomIdentity.translate((o.width - layout.width * k) / 2, (o.height - layout.height * k) / 2).scale(k));
    svg.attr('data-fit', 'all');
  };
  const initial = () => {
    let k = Math.min(2, 0.95 * Math.min(o.width / Math.max(1, layout.width), o.height / Math.max(1, layout.height)));
    let ty = (o.height - layout.height * k) / 2;
    // A very tall graph (a long chain) opens readable: its width fitted, from the top; Fit shows all of it.
    if (k < 0.25) {
      k = Math.min(1, (0.95 * o.width) / Math.max(1, layout.width));
      ty = 10;
    }
    svg.call(zb.transform, zoomIdentity.translate((o.width - layout.width * k) / 2, ty).scale(k));
  };
  initial();
  const api: GraphRenderer = {
    fit: fitAll,
    zoomBy: (k) => svg.call(zb.scaleBy, k),
    focus(id) {
      const n = byId.get(id);
      if (!n) return;
      const k = Math.max(1.2, k0);
      svg.call(zb.transform, zoomIdentity.translate(o.width / 2 - n.x * k, o.height / 2 - n.y * k).scale(k));
    },
    setSelected(id) {
      nodes.classed('selected', (d) => d.id === id).attr('aria-pressed', focusable ? (d) => String(d.id === id) : null);
    },
    setMatches(ids) {
      nodes.classed('match', (d) => ids.has(d.id));
      svg.classed('searching', ids.size > 0);
    },
    recolor(color) {
      nodes.select('rect').style('fill', (d) => color((d as LayoutNode).id));
      // Band colours (hex) carry dark text in either colour scheme; dtype colours keep the theme's.
      nodes.selectAll('text').style('fill', function () {
        const c = color(((this as SVGTextElement).parentNode as unknown as { __data__: LayoutNode }).__data__.id);
        return c.startsWith('#') ? '#1c2330' : null;
      });
    },
    destroy() {
      svg.on('.zoom', null);
      svg.selectAll('*').remove();
    },
  };
  return api;
}
