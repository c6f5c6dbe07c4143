/**
 * The graph viewer's minimap: every node as a small rect in a corner box, and the part of the graph in view as a
 * frame that follows pan and zoom; a click on the minimap centres the view there. Plain d3, no React.
 */
import { select, type ZoomTransform } from 'd3';
import type { Layout } from './layout.ts';

export interface Minimap { update(t: ZoomTransform): void }

export function drawMinimap(svgEl: SVGSVGElement, layout: Layout, view: { width: number; height: number }, size: number, centre: (x: number, y: number) => void): Minimap {
  const svg = select(svgEl);
  const k = Math.min(size / Math.max(1, layout.width), size / Math.max(1, layout.height));
  const w = layout.width * k, h = layout.height * k;
  const g = svg.append('g').attr('class', 'minimap').attr('data-testid', 'graph-minimap').attr('transform', `translate(${view.width - w - 8},${view.height - h - 8})`);
  g.append('rect').attr('class', 'minimap-bg').attr('width', w).attr('height', h);
  // One path for every node: cheap even for thousands of nodes.
  g.append('path').attr('class', 'minimap-nodes')
    .attr('d', layout.nodes.map((n) => `M${((n.x - n.w / 2) * k).toFixed(1)},${((n.y - n.h / 2) * k).toFixed(1)}h${Math.max(1, n.w * k).toFixed(1)}v${Math.max(1, n.h * k).toFixed(1)}h${(-Math.max(1, n.w * k)).toFixed(1)}z`).join(''));
  const frame = g.append('rect').attr('class', 'minimap-view');
  g.on('click', (ev: MouseEvent) => {
    const [mx, my] = [ev.offsetX - (view.width - w - 8), ev.offsetY - (view.height - h - 8)];
    centre(mx / k, my / k);
  });
  return {
    update(t) {
      // The view's corners in layout coordinates, clamped to the minimap.
      const x0 = Math.max(0, -t.x / t.k), y0 = Math.max(0, -t.y / t.k);
      const x1 = Math.min(layout.width, (view.width - t.x) / t.k), y1 = Math.min(layout.height, (view.height - t.y) / t.k);
      frame.attr('x', x0 * k).attr('y', y0 * k).attr('width', Math.max(0, x1 - x0) * k).attr('height', Math.max(0, y1 - y0) * k);
    },
  };
}
