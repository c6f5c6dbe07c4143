/**
 * Every output of the model, simulator against the fake-quant model (src/quant/deploy-outputs.ts): cosine, SQNR, the
 * largest difference in the output's LSB, and the top-1 agreement of the outputs that are class scores ("–" for the
 * others: feature maps, boxes, masks, embeddings).
 */
import { useId } from 'react';
import { formatFixed } from '../../format.ts';
import { useStudio } from '../../studio-context.tsx';

const sqnr = (v: number) => (Number.isFinite(v) ? formatFixed(v, 1) : 'exact');
const lsb = (v: number) => (v < 100 ? formatFixed(v, 2) : v.toExponential(2));

export function OutputTable() {
  const outs = useStudio((s) => s.deploy.result?.outputs ?? null);
  const id = useId();
  if (!outs?.length) return null;
  return (
    <div className="deploy-outputs">
      <h3 id={`${id}-h`}>Per output</h3>
      <table className="results" data-testid="deploy-outputs" data-count={outs.length} aria-labelledby={`${id}-h`}>
        <thead>
          <tr>
            <th scope="col">Output</th><th scope="col">shape</th><th scope="col">dtype</th><th scope="col">cosine</th>
            <th scope="col">SQNR dB</th><th scope="col">max LSB</th><th scope="col" title="Top-1 agreement of the simulator with the fake-quant model, for outputs that are class scores">top-1</th>
          </tr>
        </thead>
        <tbody>
          {outs.map((o) => (
            <tr key={o.id} data-testid="deploy-output-row" data-output={o.name} data-cosine={o.cosine} data-sqnr={o.sqnr_db} data-max-lsb={o.max_lsb}
              data-top1={o.top1_agreement ?? ''}>
              <td>{o.name}</td>
              <td>{o.shape.join('×')}</td>
              <td>{o.dtype}</td>
              <td>{formatFixed(o.cosine, 6)}</td>
              <td>{sqnr(o.sqnr_db)}</td>
              <td>{lsb(o.max_lsb)}</td>
              <td>{o.top1_agreement === null ? '–' : `${formatFixed(o.top1_agreement, 2)}%`}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="hint">LSB of an int32 output (a conv's accumulator, dequantized) = input scale × weight scale of its channel.</p>
    </div>
  );
}
