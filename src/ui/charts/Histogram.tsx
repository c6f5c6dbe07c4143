/** React shell of one activation histogram (see histogram-chart.ts). */
import { useEffect, useRef } from 'react';
import type { ActHistogram } from '../../train/quant-protocol.ts';
import { renderHistogram } from './histogram-chart.ts';

export function Histogram({ h, width = 360, height = 120 }: { h: ActHistogram; width?: number; height?: number }) {
  const ref = useRef<SVGSVGElement>(null);
  useEffect(() => {
    if (ref.current) renderHistogram(ref.current, h, width, height);
  }, [h, width, height]);
  const label = `Histogram of ${h.node}: values ${h.min.toPrecision(3)} to ${h.max.toPrecision(3)}, clip range ${h.clip[0].toPrecision(3)} to ${h.clip[1].toPrecision(3)}`;
  return (
    <div className="chart histogram" data-testid="act-histogram" data-node={h.node} data-clip={h.clip.join(',')}>
      <svg ref={ref} role="img" aria-label={label} />
    </div>
  );
}
