/**
 * The worst images of the analysis: each drawn from its pixels, with its label, both stages' predictions and the
 * distance. Without an output of class scores (or without labels) there is no top-1 (or no accuracy): the images
 * are ranked by the distance alone, over every output when the model has several.
 */
import { useEffect, useRef } from 'react';
import type { AnalysisResult } from '../../../train/analysis-protocol.ts';
import { formatDistance } from '../../../quant/analysis/distance.ts';

function Thumb({ pixels, shape }: { pixels: Uint8Array; shape: [number, number, number] }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx) return;
    const [C, H, W] = shape;
    const img = ctx.createImageData(W, H);
    for (let i = 0; i < H * W; i++) {
      // one channel: grey; three: RGB planes (CHW)
      const r = pixels[i], g = C === 3 ? pixels[H * W + i] : r, b = C === 3 ? pixels[2 * H * W + i] : r;
      img.data.set([r, g, b, 255], 4 * i);
    }
    ctx.putImageData(img, 0, 0);
  }, [pixels, shape]);
  return <canvas ref={ref} width={shape[2]} height={shape[1]} className="bad-thumb" aria-hidden="true" />;
}

export function BadCases({ result }: { result: AnalysisResult }) {
  const r = result.report;
  const name = (k: number) => result.classNames[k] ?? String(k);
  const [a, b] = r.compare;
  const top1 = r.agreement_top1 === undefined || Number.isFinite(r.agreement_top1);
  const acc = top1 && Number.isFinite(r.acc1?.[a] ?? NaN);
  const outs = r.outputs ?? [];
  return (
    <div className="analysis-block">
      <h3>Bad cases ({r.metric}, worst first)</h3>
      {outs.length > 1 && (
        <p className="hint" data-testid="analysis-outputs" data-count={outs.length}>
          {r.metric} over {outs.length} outputs ({outs.map((o) => `${o.name} ${o.shape.join('×')}`).join(', ')}): the mean of each output's, per element, so a big feature map does not dominate.
        </p>
      )}
      <p className="hint" data-testid="analysis-agreement" data-top1={top1 ? 'yes' : 'no'} data-acc={acc ? 'yes' : 'no'}>
        {acc && <>{a} Acc@1 {r.acc1?.[a]?.toFixed(2)} %, {b} Acc@1 {r.acc1?.[b]?.toFixed(2)} %; </>}
        {top1 ? <>top-1 agreement {r.agreement_top1?.toFixed(2)} % of {r.images} images.</> : <>{r.images} images; no output is class scores, so no top-1: ranked by {r.metric} only.</>}
      </p>
      <ol className="bad-cases" data-testid="analysis-bad-cases-list">
        {r.bad_cases.map((c, i) => (
          <li key={c.index} data-testid="analysis-bad-case" data-disagree={c.disagree} data-index={c.index}>
            <Thumb pixels={result.images.pixels[i]} shape={result.images.shape} />
            <span className="bad-text">
              {c.label_name && <><strong>{c.label_name}</strong><br /></>}
              {top1 && <>
                {a}: {name(c.pred_a)}<br />
                <span className={c.disagree ? 'bad-flip' : ''}>{b}: {name(c.pred_b)}</span><br />
              </>}
              {r.metric} {formatDistance(r.metric, c.distance)}
            </span>
          </li>
        ))}
      </ol>
    </div>
  );
}
