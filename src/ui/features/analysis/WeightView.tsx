/** Weight comparison per conv / linear layer: SQNR of the fake-quantized weights, the spread of channel scales, the worst channels. */
import type { AnalyzeReport } from '../../../quant/analysis/report.ts';

export function WeightView({ report }: { report: AnalyzeReport }) {
  if (!report.weights?.length) return null;
  return (
    <div className="analysis-block">
      <h3>Weights: float vs fake-quantized (per output channel)</h3>
      <div className="table-scroll">
        <table className="data-table" data-testid="analysis-weight-table">
          <thead><tr><th>layer</th><th>dtype</th><th>channels</th><th>SQNR dB</th><th>max |err|</th><th>scale max/min</th><th>worst channels (scale, max err in LSB)</th></tr></thead>
          <tbody>
            {report.weights.map((w) => (
              <tr key={w.layer} data-testid="analysis-weight-row" data-layer={w.layer}>
                <td>{w.layer}</td><td>{w.dtype}</td><td>{w.channels}</td><td>{w.sqnr_db === null ? 'exact' : w.sqnr_db.toFixed(1)}</td>
                <td>{w.max_abs_error.toExponential(2)}</td><td>{w.scale_ratio.toFixed(1)}</td>
                <td>{w.worst.map((c) => `#${c.channel} (${c.scale.toExponential(2)}, ${c.max_error_lsb.toFixed(2)})`).join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
