/** Calibration histograms of each activation site with the clip range of its scale; one site at a time. */
import { useId, useState } from 'react';
import { Histogram } from '../../charts/Histogram.tsx';
import { useStudio } from '../../studio-context.tsx';

export function HistogramList() {
  const hs = useStudio((s) => s.quant.calib?.histograms ?? null);
  const [pick, setPick] = useState('');
  const id = useId();
  if (!hs || hs.length === 0) return <p className="empty-state" data-testid="histograms-empty">Calibrate to see the activation histograms.</p>;
  const h = hs.find((x) => x.node === pick) ?? hs[0];
  const clipped = h.min < h.clip[0] || h.max > h.clip[1];
  return (
    <div className="histograms" data-testid="histograms" data-count={hs.length}>
      <div className="field">
        <label htmlFor={`${id}-site`}>Activation site ({hs.length})</label>
        <select id={`${id}-site`} data-testid="hist-select" value={h.node} onChange={(e) => setPick(e.target.value)}>
          {hs.map((x) => <option key={x.node} value={x.node}>{x.node}</option>)}
        </select>
      </div>
      <Histogram h={h} width={420} />
      <p className="hint">
        Values {h.min.toPrecision(3)} … {h.max.toPrecision(3)}; clip range {h.clip[0].toPrecision(3)} … {h.clip[1].toPrecision(3)}
        {clipped ? ' (the tails outside are clipped)' : ' (nothing clipped)'}
      </p>
    </div>
  );
}
