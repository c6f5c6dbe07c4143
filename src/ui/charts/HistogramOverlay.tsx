/** React shell of two overlaid activation histograms (see histogram-overlay.ts). */
import { useEffect, useRef } from 'react';
import type { ActHistogram } from '../../train/quant-protocol.ts';
import { renderHistogramOverlay } from './histogram-overlay.ts';

export function HistogramOverlay({ a, b, width = 420, height = 130 }: { a: ActHistogram; b: ActHistogram; width?: number; height?: number }) {
  const ref = useRef<SVGSVGElement>(null);
  useEffect(() => {
    if (ref.current) renderHistogramOverlay(ref.current, [a, b], width, height);
  }, [a, b, width, height]);
  const clip = (h: ActHistogram) => `${h.clip[0].toPrecision(3)} to ${h.clip[1].toPrecision(3)}`;
  return (
    <div className="chart histogram overlay" data-testid="hist-overlay" data-node={a.node} data-clip-a={a.clip.join(',')} data-clip-b={b.clip.join(',')}>
      <svg ref={ref} role="img" aria-label={`Histograms of ${a.node} in run A (clip ${clip(a)}) and run B (clip ${clip(b)})`} />
      <p className="legend"><span className="swatch a" /> A: clip {clip(a)} <span className="swatch b" /> B: clip {clip(b)}</p>
    </div>
  );
}
