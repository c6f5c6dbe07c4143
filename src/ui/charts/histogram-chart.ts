/**
 * One activation histogram drawn with d3 into an <svg>: bars of the calibration values (log-scaled
 * counts) and the clip range the chosen scale gives (dashed lines, with the clipped tails shaded).
 */
import { axisBottom, max, scaleLinear, scaleLog, select } from 'd3';
import type { ActHistogram } from '../../train/quant-protocol.ts';

const M = { top: 8, right: 10, bottom: 22, left: 10 };

export function renderHistogram(el: SVGSVGElement, h: ActHistogram, width: number, height: number): void {
  const svg = select(el).attr('viewBox', `0 0 ${width} ${height}`).attr('width', width).attr('height', height);
  svg.selectAll('*').remove();
  const x = scaleLinear().domain([Math.min(h.lo, h.clip[0]), Math.max(h.hi, h.clip[1])]).range([M.left, width - M.right]);
  const y = scaleLog().domain([1, Math.max(2, max(h.counts) ?? 2)]).range([height - M.bottom, M.top]).clamp(true);
  const w = (h.hi - h.lo) / h.counts.length;
  const g = svg.append('g');
  g.selectAll('rect.bin').data(h.counts).join('rect').attr('class', 'bin')
    .attr('x', (_, i) => x(h.lo + i * w)).attr('width', (_, i) => Math.max(0.5, x(h.lo + (i + 1) * w) - x(h.lo + i * w) - 0.5))
    .attr('y', (c) => (c > 0 ? y(Math.max(1, c)) : height - M.bottom)).attr('height', (c) => (c > 0 ? height - M.bottom - y(Math.max(1, c)) : 0));
  for (const [a, b] of [[x.domain()[0], h.clip[0]], [h.clip[1], x.domain()[1]]] as const) {
    if (b > a) g.append('rect').attr('class', 'clipped').attr('x', x(a)).attr('width', x(b) - x(a)).attr('y', M.top).attr('height', height - M.bottom - M.top);
  }
  g.selectAll('line.clip').data(h.clip).join('line').attr('class', 'clip')
    .attr('x1', (v) => x(v)).attr('x2', (v) => x(v)).attr('y1', M.top).attr('y2', height - M.bottom);
  // The clip range's ends labelled at the top, each just inside the range (never cut off at the plot's edge).
  g.selectAll('text.clip-label').data(h.clip).join('text').attr('class', 'clip-label')
    .attr('x', (v, i) => x(v) + (i === 0 ? 3 : -3)).attr('y', M.top + 8).attr('text-anchor', (_, i) => (i === 0 ? 'start' : 'end'))
    .text((v) => v.toPrecision(3));
  svg.append('g').attr('class', 'axis').attr('transform', `translate(0,${height - M.bottom})`).call(axisBottom(x).ticks(5).tickSizeOuter(0));
}
