/**
 * Draws a laid-out graph with d3 into an <svg> (no React), drawing only what is in view: the nodes, frames and
 * edges that meet the view are joined on every pan / zoom frame (culling.ts); when more than DETAIL_MAX nodes are
 * in view (a 2 000-node graph fitted) they are drawn as one path per colour instead, without text. A node is a
 * rect with its op (large) and name (small) inside, shortened to fit with the whole text as its title; a collapsed
 * group is a box that expands on click or Enter, an expanded one a frame whose header collapses it; edges carry the
 * tensor shape. Pan and zoom (d3-zoom), a minimap, Fit, zoom to a node, keyboard traversal (traversal.ts).
 */
import { line, select, zoom, zoomIdentity, type ZoomBehavior, type ZoomTransform } from 'd3';
import { BoxGrid, viewRect, type Box } from './culling.ts';
import { fitLabel, LABEL_PAD, NAME_FONT, OP_FONT } from './labels.ts';
import type { Layout, LayoutEdge, LayoutGroup, LayoutNode } from './layout.ts';
import { BAND_TEXT } from './metric-bands.ts';
import { drawMinimap } from './minimap.ts';
import { neighbourOf } from './traversal.ts';

export { fitText } from './labels.ts';
export { neighbourOf } from './traversal.ts';

export interface GraphRenderer {
  fit(): void;
  zoomBy(k: number): void;
  focus(id: string): void;
  setSelected(id: string | null): void;
  setMatches(ids: ReadonlySet<string>): void;
  recolor(color: (id: string) => string): void;
  /** The zoom transform (for keeping the view across a relayout, and for syncing two views). */
  transform(): ZoomTransform;
  setTransform(t: { x: number; y: number; k: number }): void;
  destroy(): void;
}

export interface RenderOptions {
  width: number;
  height: number;
  /** The accessible name of a node. */
  label: (id: string) => string;
  /** The large line (op, with fused parts; a group's name) and the small line (the node's name; a group's size). */
  lines?: (id: string) => { op: string; name: string };
  /** The tensor an edge carries (e.g. "16×14×14"), drawn at its middle; '' for none. */
  edgeLabel?: (e: { from: string; to: string }) => string;
  attrs: (id: string) => Record<string, string>;
  color: (id: string) => string;
  onSelect: (id: string) => void;
  /** A collapsed group's box or an expanded group's header was clicked (or Enter on a group box). */
  onToggle?: (groupId: string) => void;
  isGroup?: (id: string) => boolean;
  /** A group frame's header text. */
  frameLabel?: (groupId: string) => string;
  /** Escape on a node (the panel closes the details). */
  onEscape?: () => void;
  /** Called after every pan / zoom with the transform (a compare view follows the other). */
  onTransform?: (t: ZoomTransform) => void;
  /** Where the view opens: a transform kept from before a relayout, else the graph fitted (readable when tall). */
  initial?: { x: number; y: number; k: number } | null;
}

/** Above this many nodes in view, nodes are drawn as one path per colour, without text. */
export const DETAIL_MAX = 400;
/** Below this zoom the labels are hidden (too small to read). */
export const LOD_LABELS = 0.45;

const path = line();
const boxOf = (n: LayoutNode): Box => ({ x0: n.x - n.w / 2, y0: n.y - n.h / 2, x1: n.x + n.w / 2, y1: n.y + n.h / 2 });
const edgeBox = (e: LayoutEdge): Box => {
  const xs = e.points.map((p) => p[0]), ys = e.points.map((p) => p[1]);
  return xs.length ? { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) } : { x0: 0, y0: 0, x1: -1, y1: -1 };
};
const mid = (pts: [number, number][]) => {
  const a = pts[Math.floor((pts.length - 1) / 2)], b = pts[Math.ceil((pts.length - 1) / 2)];
  return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
};

export function renderGraph(el: SVGSVGElement, layout: Layout, o: RenderOptions): GraphRenderer {
  const svg = select(el).attr('viewBox', `0 0 ${o.width} ${o.height}`);
  svg.selectAll('*').remove();
  svg.append('defs').html('<marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0L8,4L0,8z" class="arrow"/></marker>');
  const root = svg.append('g').attr('class', 'viewport');
  const frameG = root.append('g').attr('class', 'frames');
  const edgeG = root.append('g').attr('class', 'edges');
  const overviewG = root.append('g').attr('class', 'overview');
  const nodeG = root.append('g').attr('class', 'nodes');
  const isGroup = o.isGroup ?? (() => false);
  const lines = o.lines ?? ((id: string) => ({ op: o.label(id), name: '' }));
  let color = o.color;
  let selected: string | null = null;
  let matches: ReadonlySet<string> = new Set();

  const nodeGrid = new BoxGrid(layout.nodes.map(boxOf));
  const edgeGrid = new BoxGrid(layout.edges.map(edgeBox));
  const frameGrid = new BoxGrid(layout.groups.map(boxOf));
  const byId = new Map(layout.nodes.map((n) => [n.id, n]));

  // ---- detail: one <g> per node in view ----
  const textColor = (id: string): string => (color(id).startsWith('#') ? BAND_TEXT : 'var(--node-text)'); // band colours carry dark text
  const styleNode = (g: SVGGElement, d: LayoutNode) => {
    const s = select(g);
    s.classed('selected', d.id === selected).classed('match', matches.has(d.id)).attr('aria-pressed', String(d.id === selected));
    s.select('rect').style('fill', color(d.id));
    s.selectAll('text').style('fill', textColor(d.id));
  };
  const enterNode = (g: SVGGElement, d: LayoutNode) => {
    const s = select(g).attr('class', isGroup(d.id) ? 'node group' : 'node').attr('data-id', d.id)
      .attr('transform', `translate(${d.x - d.w / 2},${d.y - d.h / 2})`).attr('tabindex', 0).attr('role', 'button').attr('aria-label', o.label(d.id));
    for (const [k, v] of Object.entries(o.attrs(d.id))) g.setAttribute(k, v);
    s.append('rect').attr('width', d.w).attr('height', d.h).attr('rx', isGroup(d.id) ? 7 : 4);
    const { op, name } = lines(d.id);
    // A group box keeps room on the right for its expand mark.
    const room = d.w - LABEL_PAD - (isGroup(d.id) ? 14 : 0);
    const cx = isGroup(d.id) ? (d.w - 14) / 2 : d.w / 2;
    const opText = fitLabel(op, room, OP_FONT), nameText = name ? fitLabel(name, room, NAME_FONT) : '';
    s.append('title').text(name ? `${op}\n${name}` : op);
    s.append('text').attr('class', 'op').attr('x', cx).attr('y', name ? d.h / 2 - 6 : d.h / 2).attr('dy', '0.35em').text(opText)
      .attr('data-full', opText !== op ? op : null);
    if (name) s.append('text').attr('class', 'name').attr('x', cx).attr('y', d.h / 2 + 8).attr('dy', '0.35em').text(nameText).attr('data-full', nameText !== name ? name : null);
    if (isGroup(d.id)) s.append('text').attr('class', 'expand').attr('x', d.w - 11).attr('y', d.h / 2).attr('dy', '0.35em').text('+');
    styleNode(g, d);
  };

  const onKey = (e: KeyboardEvent, d: LayoutNode) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      if (isGroup(d.id)) o.onToggle?.(d.id);
      else o.onSelect(d.id);
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
  };

  const frameHead = 16;
  const drawDetail = (view: Box) => {
    overviewG.selectAll('*').remove();
    const nodes = nodeGrid.query(view).map((i) => layout.nodes[i]);
    nodeG.selectAll<SVGGElement, LayoutNode>('g.node').data(nodes, (d) => d.id).join(
      (enter) => enter.append('g').each(function (d) { enterNode(this, d); })
        .on('click', (_e, d) => (isGroup(d.id) ? o.onToggle?.(d.id) : o.onSelect(d.id)))
        .on('keydown', (e: KeyboardEvent, d) => onKey(e, d)),
    );
    const edges = edgeGrid.query(view).map((i) => layout.edges[i]);
    edgeG.selectAll<SVGPathElement, LayoutEdge>('path').data(edges, (e) => `${e.from}>${e.to}`).join('path')
      .attr('d', (e) => path(e.points) ?? '').attr('marker-end', 'url(#arrow)');
    const labelled = o.edgeLabel ? edges.filter((e) => e.points.length && o.edgeLabel!(e)) : [];
    edgeG.selectAll<SVGTextElement, LayoutEdge>('text.edge-label').data(labelled, (e) => `${e.from}>${e.to}`).join('text')
      .attr('class', 'edge-label').attr('data-from', (e) => e.from).attr('data-to', (e) => e.to)
      .attr('x', (e) => mid(e.points)[0] + 4).attr('y', (e) => mid(e.points)[1]).attr('dy', '0.35em').text((e) => o.edgeLabel!(e));
    const frames = frameGrid.query(view).map((i) => layout.groups[i]);
    frameG.selectAll<SVGGElement, LayoutGroup>('g.frame').data(frames, (d) => d.id).join((enter) => {
      const f = enter.append('g').attr('class', 'frame').attr('data-id', (d) => d.id).attr('transform', (d) => `translate(${d.x - d.w / 2},${d.y - d.h / 2})`);
      f.append('rect').attr('class', 'frame-box').attr('width', (d) => d.w).attr('height', (d) => d.h).attr('rx', 8);
      const head = f.append('g').attr('class', 'frame-head').attr('role', 'button').attr('tabindex', 0)
        .attr('aria-label', (d) => `Collapse ${o.frameLabel?.(d.id) ?? d.id}`)
        .on('click', (_e, d) => o.onToggle?.(d.id))
        .on('keydown', (e: KeyboardEvent, d) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); o.onToggle?.(d.id); } });
      head.append('rect').attr('width', (d) => d.w).attr('height', frameHead).attr('rx', 8);
      head.append('text').attr('x', 8).attr('y', frameHead / 2).attr('dy', '0.35em')
        .text((d) => fitLabel(`− ${o.frameLabel?.(d.id) ?? d.id}`, d.w - 16, NAME_FONT));
      head.append('title').text((d) => `${o.frameLabel?.(d.id) ?? d.id}: click to collapse`);
      return f;
    });
  };

  // ---- overview: every node as part of one path per colour (thousands of nodes, no text) ----
  let overviewDrawn = false;
  const drawOverview = () => {
    nodeG.selectAll('*').remove();
    edgeG.selectAll('*').remove();
    frameG.selectAll('*').remove();
    if (overviewDrawn) return;
    overviewDrawn = true;
    overviewG.selectAll('*').remove();
    overviewG.append('path').attr('class', 'overview-edges')
      .attr('d', layout.edges.map((e) => path(e.points) ?? '').join(''));
    const byColor = new Map<string, string[]>();
    for (const n of layout.nodes) {
      const c = color(n.id);
      const d = `M${(n.x - n.w / 2).toFixed(1)},${(n.y - n.h / 2).toFixed(1)}h${n.w.toFixed(1)}v${n.h.toFixed(1)}h${(-n.w).toFixed(1)}z`;
      const list = byColor.get(c);
      if (list) list.push(d);
      else byColor.set(c, [d]);
    }
    for (const [c, ds] of byColor) overviewG.append('path').attr('class', 'overview-nodes').style('fill', c).attr('d', ds.join(''));
  };

  let mode: 'detail' | 'overview' = 'detail';
  const cull = (t: ZoomTransform) => {
    const view = viewRect(t, o.width, o.height);
    const inView = nodeGrid.query(view).length;
    mode = inView > DETAIL_MAX ? 'overview' : 'detail';
    if (mode === 'overview') drawOverview();
    else {
      overviewDrawn = false;
      drawDetail(view);
    }
    svg.attr('data-mode', mode).attr('data-drawn', mode === 'detail' ? nodeG.selectAll('g.node').size() : layout.nodes.length);
  };

  let cur = zoomIdentity;
  const mini = layout.nodes.length > 1
    ? drawMinimap(el, layout, o, 120, (x, y) => svg.call(zb.transform, zoomIdentity.translate(o.width / 2 - x * cur.k, o.height / 2 - y * cur.k).scale(cur.k)))
    : null;
  const zb: ZoomBehavior<SVGSVGElement, unknown> = zoom<SVGSVGElement, unknown>().scaleExtent([0.01, 4]).on('zoom', (ev) => {
    cur = ev.transform;
    root.attr('transform', cur.toString());
    svg.classed('lod-low', cur.k < LOD_LABELS).attr('data-zoom', cur.k.toFixed(3));
    cull(cur);
    mini?.update(cur);
    o.onTransform?.(cur);
  });
  svg.call(zb).on('dblclick.zoom', null);
  const fitK = () => Math.min(2, 0.95 * Math.min(o.width / Math.max(1, layout.width), o.height / Math.max(1, layout.height)));
  const fitAll = () => {
    // The whole graph in view, however tall (labels hide below LOD_LABELS; zoom in to read them).
    const k = fitK();
    svg.call(zb.transform, zoomIdentity.translate((o.width - layout.width * k) / 2, (o.height - layout.height * k) / 2).scale(k));
    svg.attr('data-fit', 'all');
  };
  const opening = () => {
    let k = fitK();
    let ty = (o.height - layout.height * k) / 2;
    // A graph too tall to read fitted (a long chain, a model's 20 blocks) opens readable from the top, its width
    // fitted where that allows; Fit shows all of it.
    if (k < LOD_LABELS) {
      k = Math.max(0.6, Math.min(1, (0.95 * o.width) / Math.max(1, layout.width)));
      ty = 10;
    }
    svg.call(zb.transform, zoomIdentity.translate((o.width - layout.width * k) / 2, ty).scale(k));
  };
  if (o.initial) svg.call(zb.transform, zoomIdentity.translate(o.initial.x, o.initial.y).scale(o.initial.k));
  else opening();

  const api: GraphRenderer = {
    fit: fitAll,
    zoomBy: (k) => svg.call(zb.scaleBy, k),
    focus(id) {
      const n = byId.get(id) ?? layout.groups.find((g) => g.id === id);
      if (!n) return;
      // A frame is fitted when it is larger than the view; a node is shown readable.
      const k = layout.groups.includes(n as LayoutGroup)
        ? Math.max(0.2, Math.min(1.2, 0.9 * Math.min(o.width / n.w, o.height / n.h)))
        : Math.max(1.2, cur.k);
      svg.call(zb.transform, zoomIdentity.translate(o.width / 2 - n.x * k, o.height / 2 - n.y * k).scale(k));
    },
    setSelected(id) {
      selected = id;
      nodeG.selectAll<SVGGElement, LayoutNode>('g.node').each(function (d) { styleNode(this, d); });
    },
    setMatches(ids) {
      matches = ids;
      nodeG.selectAll<SVGGElement, LayoutNode>('g.node').each(function (d) { styleNode(this, d); });
      svg.classed('searching', ids.size > 0);
    },
    recolor(c) {
      color = c;
      nodeG.selectAll<SVGGElement, LayoutNode>('g.node').each(function (d) { styleNode(this, d); });
      if (mode === 'overview') {
        overviewDrawn = false;
        drawOverview();
      }
    },
    transform: () => cur,
    setTransform(t) {
      if (Math.abs(t.x - cur.x) < 0.01 && Math.abs(t.y - cur.y) < 0.01 && Math.abs(t.k - cur.k) < 1e-6) return;
      svg.call(zb.transform, zoomIdentity.translate(t.x, t.y).scale(t.k));
    },
    destroy() {
      svg.on('.zoom', null);
      svg.selectAll('*').remove();
    },
  };
  return api;
}
