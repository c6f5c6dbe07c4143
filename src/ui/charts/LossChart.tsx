/** React shell of the d3 loss / accuracy chart: sizes it to its container and redraws on new data. */
import { useEffect, useRef, useState } from 'react';
import { renderLossChart } from './loss-chart.ts';
import type { EpochPoint, LossPoint } from '../store/run-reducer.ts';

export interface LossChartProps {
  losses: readonly LossPoint[];
  epochs: readonly EpochPoint[];
  totalSteps: number;
  height?: number;
  /** data-testid of the chart (several charts on the page). */
  testId?: string;
}

export function LossChart({ losses, epochs, totalSteps, height = 260, testId = 'loss-chart' }: LossChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const svg = useRef<SVGSVGElement>(null);
  const [width, setWidth] = useState(640);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver((entries) => {
      const w = Math.floor(entries[0]?.contentRect.width ?? 0);
      if (w > 0) setWidth(w);
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    if (svg.current) renderLossChart(svg.current, { losses, epochs, totalSteps }, { width, height });
  }, [losses, epochs, totalSteps, width, height]);

  const last = losses.at(-1);
  const acc = epochs.at(-1);
  const label = losses.length === 0
    ? 'Loss and accuracy chart, no data yet'
    : `Loss chart: ${losses.length} steps, last loss ${last?.loss.toFixed(3)}` +
      (acc ? `; test accuracy after epoch ${acc.epoch}: ${acc.acc1.toFixed(1)}%` : '');

  return (
    <div className="chart" ref={box} data-testid={testId} data-loss-points={losses.length} data-acc-points={epochs.length}>
      <svg ref={svg} role="img" aria-label={label} />
      <ul className="legend" aria-hidden="true">
        <li><span className="swatch swatch-raw" />loss per step</li>
        <li><span className="swatch swatch-smooth" />smoothed</li>
        <li><span className="swatch swatch-acc" />test acc@1 per epoch</li>
      </ul>
    </div>
  );
}
