/**
 * Draws a laid-out graph with d3 into an <svg> (no React): simple shapes only (a rect and a label per
 * node, one path per edge), pan and zoom with d3-zoom, labels hidden when zoomed far out (large
 * graphs stay usable), fit / zoom to a node. Colours come from a function (dtype or an overlay), so a
 * recolour touches only the rects' fill.
 */
import { line, select, zoom, zoomIdentity, type Selection, type ZoomBehavior } from 'd3';
import type { Layout, LayoutNode } from './layout.ts';

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
  label: (id: string) => string;
  attrs: (id: string) => Record<string, string>;
  color: (id: string) => string;
  onSelect: (id: string) => void;
  /** Nodes are focusable (Tab / Enter) below this count. */
  focusableBelow?: number;
}

const path = line();

export function renderGraph(el: SVGSVGElement, layout: Layout, o: RenderOptions): GraphRenderer {
  const svg = select(el).attr('viewBox', `0 0 ${o.width} ${o.height}`);
  svg.selectAll('*').remove();
  const root = svg.append('g').attr('class', 'viewport');
  root.append('g').attr('class', 'edges').selectAll('path').data(layout.edges).join('path')
    .attr('d', (e) => path(e.points) ?? '').attr('marker-end', layout.nodes.length < 600 ? 'url(#arrow)' : null);
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
      }
    });
  nodes.append('rect').attr('width', (d) => d.w).attr('height', (d) => d.h).attr('rx', 4).style('fill', (d) => o.color(d.id));
  nodes.append('text').attr('x', (d) => d.w / 2).attr('y', (d) => d.h / 2).attr('dy', '0.35em').text((d) => o.label(d.id));

  const byId = new Map(layout.nodes.map((n) => [n.id, n]));
  const zb: ZoomBehavior<SVGSVGElement, unknown> = zoom<SVGSVGElement, unknown>().scaleExtent([0.02, 4]).on('zoom', (ev) => {
    root.attr('transform', ev.transform.toString());
    svg.classed('lod-low', ev.transform.k < 0.45).attr('data-zoom', ev.transform.k.toFixed(3));
  });
  svg.call(zb).on('dblclick.zoom', null);
  const fit = () => {
    let k = Math.min(2, 0.95 * Math.min(o.width / Math.max(1, layout.width), o.height / Math.max(1, layout.height)));
    let ty = (o.height - layout.height * k) / 2;
    // A very tall graph (a long chain): fit the width and start at the top rather than shrink to a line.
    if (k < 0.25) {
      k = Math.min(1, (0.95 * o.width) / Math.max(1, layout.width));
      ty = 10;
    }
    svg.call(zb.transform, zoomIdentity.translate((o.width - layout.width * k) / 2, ty).scale(k));
  };
  fit();
  return {
    fit,
    zoomBy: (k) => svg.call(zb.scaleBy, k),
    focus(id) {
      const n = byId.get(id);
      if (!n) return;
      const k = 1.2;
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
    },
    destroy() {
      svg.on('.zoom', null);
      svg.selectAll('*').remove();
    },
  };
}
