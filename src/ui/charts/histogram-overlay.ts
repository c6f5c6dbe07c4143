/**
 * Two activation histograms of one site overlaid (run A and run B of the run comparison): each drawn as a step
 * outline of its counts (log-scaled, each over its own bins), with its clip range as dashed lines in its colour.
 */
import { axisBottom, line, max, scaleLinear, scaleLog, select } from 'd3';
import type { ActHistogram } from '../../train/quant-protocol.ts';

const M = { top: 8, right: 10, bottom: 22, left: 10 };

export function renderHistogramOverlay(el: SVGSVGElement, hs: [ActHistogram, ActHistogram], width: number, height: number): void {
  const svg = select(el).attr('viewBox', `0 0 ${width} ${height}`).attr('width', width).attr('height', height);
  svg.selectAll('*').remove();
  const lo = Math.min(...hs.flatMap((h) => [h.lo, h.clip[0]])), hi = Math.max(...hs.flatMap((h) => [h.hi, h.clip[1]]));
  const x = scaleLinear().domain([lo, hi]).range([M.left, width - M.right]);
  const top = Math.max(2, ...hs.map((h) => max(h.counts) ?? 2));
  const y = scaleLog().domain([1, top]).range([height - M.bottom, M.top]).clamp(true);
  hs.forEach((h, k) => {
    const w = (h.hi - h.lo) / h.counts.length;
    const pts: [number, number][] = [[x(h.lo), y(1)]];
    h.counts.forEach((c, i) => {
      const v = y(Math.max(1, c));
      pts.push([x(h.lo + i * w), v], [x(h.lo + (i + 1) * w), v]);
    });
    pts.push([x(h.hi), y(1)]);
    const g = svg.append('g').attr('class', `series series-${k === 0 ? 'a' : 'b'}`);
    g.append('path').attr('class', 'outline').attr('d', line()(pts));
    g.selectAll('line.clip').data(h.clip).join('line').attr('class', 'clip')
      .attr('x1', (v) => x(v)).attr('x2', (v) => x(v)).attr('y1', M.top).attr('y2', height - M.bottom);
  });
  svg.append('g').attr('class', 'axis').attr('transform', `translate(0,${height - M.bottom})`).call(axisBottom(x).ticks(5).tickSizeOuter(0));
}
