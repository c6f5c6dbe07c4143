/**
 * The loss / accuracy chart, drawn with d3 into an <svg> (no React): training loss per step (raw,
 * faint, plus an exponential moving average) against the left axis, test accuracy per epoch as
 * points against the right axis. Idempotent: call it again with new data or a new size. Colours
 * come from CSS classes (styles.css), so the chart follows the light / dark theme without a redraw.
 */
import { axisBottom, axisLeft, axisRight, line, max, scaleLinear, select } from 'd3';
import type { EpochPoint, LossPoint } from '../store/run-reducer.ts';

export interface LossChartData {
  losses: readonly LossPoint[];
  epochs: readonly EpochPoint[];
  /** Steps of the whole run (the x domain), 0 when unknown. */
  totalSteps: number;
}

export interface ChartSize { width: number; height: number }

const M = { top: 22, right: 46, bottom: 30, left: 46 };
/** Most points drawn for the raw loss line; longer runs are thinned (min/max per bucket kept). */
const MAX_RAW_POINTS = 1200;

/** Exponential moving average with bias correction (TensorBoard's smoothing). */
export function smooth(points: readonly LossPoint[], weight = 0.85): LossPoint[] {
  let last = 0, n = 0;
  return points.map((p) => {
    last = last * weight + (1 - weight) * p.loss;
    n++;
    return { step: p.step, loss: last / (1 - weight ** n) };
  });
}

/** At most ~max points: each bucket keeps its smallest and largest loss (in step order). */
export function thin(points: readonly LossPoint[], maxPoints = MAX_RAW_POINTS): LossPoint[] {
  if (points.length <= maxPoints) return [...points];
  const buckets = Math.floor(maxPoints / 2);
  const size = points.length / buckets;
  const out: LossPoint[] = [];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor(b * size), to = Math.min(points.length, Math.floor((b + 1) * size));
    let lo = points[from], hi = points[from];
    for (let i = from; i < to; i++) {
      if (points[i].loss < lo.loss) lo = points[i];
      if (points[i].loss > hi.loss) hi = points[i];
    }
    if (lo === hi) out.push(lo);
    else out.push(...(lo.step < hi.step ? [lo, hi] : [hi, lo]));
  }
  return out;
}

export function renderLossChart(svgEl: SVGSVGElement, data: LossChartData, size: ChartSize): void {
  const width = Math.max(160, size.width), height = Math.max(120, size.height);
  const iw = width - M.left - M.right, ih = height - M.top - M.bottom;
  const svg = select(svgEl).attr('viewBox', `0 0 ${width} ${height}`).attr('width', width).attr('height', height);

  const lastStep = Math.max(data.losses.at(-1)?.step ?? 0, data.epochs.at(-1)?.step ?? 0);
  const x = scaleLinear().domain([0, Math.max(1, data.totalSteps, lastStep)]).range([0, iw]);
  const maxLoss = max(data.losses, (p) => p.loss) ?? 0;
  const yLoss = scaleLinear().domain([0, Math.max(0.1, maxLoss * 1.05)]).nice().range([ih, 0]);
  const yAcc = scaleLinear().domain([0, 100]).range([ih, 0]);

  const root = svg.selectAll<SVGGElement, null>('g.plot').data([null]).join('g')
    .attr('class', 'plot').attr('transform', `translate(${M.left},${M.top})`);
  const layer = (cls: string) => root.selectAll<SVGGElement, null>(`g.${cls.split(' ').join('.')}`).data([null]).join('g').attr('class', cls);

  layer('grid').call((g) => g.call(axisLeft(yLoss).ticks(5).tickSize(-iw).tickFormat(() => '')));
  layer('axis axis-x').attr('transform', `translate(0,${ih})`).call(axisBottom(x).ticks(Math.max(1, Math.min(x.domain()[1], Math.floor(iw / 80)))).tickFormat((d) => (Number.isInteger(+d) ? String(d) : '')));
  layer('axis axis-loss').call(axisLeft(yLoss).ticks(5));
  layer('axis axis-acc').attr('transform', `translate(${iw},0)`).call(axisRight(yAcc).ticks(5).tickFormat((d) => `${d}%`));

  const labels = layer('labels');
  labels.selectAll<SVGTextElement, string>('text.label-x').data(['step']).join('text').attr('class', 'axis-label label-x')
    .attr('x', iw).attr('y', ih + 26).attr('text-anchor', 'end').text((d) => d);
  labels.selectAll<SVGTextElement, string>('text.label-loss').data(['loss']).join('text').attr('class', 'axis-label label-loss')
    .attr('x', -M.left + 4).attr('y', -10).text((d) => d);
  labels.selectAll<SVGTextElement, string>('text.label-acc').data(['test acc']).join('text').attr('class', 'axis-label label-acc')
    .attr('x', iw + M.right - 4).attr('y', -10).attr('text-anchor', 'end').text((d) => d);

  const lossLine = line<LossPoint>().x((p) => x(p.step)).y((p) => yLoss(p.loss));
  const series = layer('series');
  series.selectAll<SVGPathElement, LossPoint[]>('path.loss-raw').data([thin(data.losses)]).join('path')
    .attr('class', 'loss-raw').attr('d', (d) => (d.length > 0 ? lossLine(d) : null));
  series.selectAll<SVGPathElement, LossPoint[]>('path.loss-smooth').data([smooth(data.losses)]).join('path')
    .attr('class', 'loss-smooth').attr('d', (d) => (d.length > 0 ? lossLine(d) : null));

  const accLine = line<EpochPoint>().x((p) => x(p.step)).y((p) => yAcc(p.acc1));
  series.selectAll<SVGPathElement, EpochPoint[]>('path.acc-line').data([data.epochs.filter((e) => Number.isFinite(e.acc1))]).join('path')
    .attr('class', 'acc-line').attr('d', (d) => (d.length > 1 ? accLine(d) : null));
  series.selectAll<SVGCircleElement, EpochPoint>('circle.acc-point').data(data.epochs.filter((e) => Number.isFinite(e.acc1)), (d) => d.epoch)
    .join('circle').attr('class', 'acc-point').attr('r', 4).attr('cx', (p) => x(p.step)).attr('cy', (p) => yAcc(p.acc1))
    .selectAll('title').data((d) => [d]).join('title').text((d) => `epoch ${d.epoch}: test acc@1 ${d.acc1.toFixed(2)}%`);

  const empty = data.losses.length === 0 && data.epochs.length === 0;
  root.selectAll<SVGTextElement, string>('text.empty').data(empty ? ['Loss and test accuracy appear here while training runs'] : [])
    .join('text').attr('class', 'empty').attr('x', iw / 2).attr('y', ih / 2).attr('text-anchor', 'middle').text((d) => d);
}
