/** The performance estimate per march (roofline, batch 1; docs/perf-model.md): latency, FPS, MACs by precision, DDR bytes. */
import { formatCompact, formatFixed, formatInt } from '../../format.ts';
import { useStudio } from '../../studio-context.tsx';

export function PerfTable() {
  const a = useStudio((s) => s.deploy.artifacts);
  if (!a) return null;
  const maxLatency = Math.max(...a.perf.map((p) => p.totals.latency_ms), 1e-12);
  return (
    <div className="deploy-perf">
      <h3 id="deploy-perf-h">Performance estimate per march</h3>
      <table className="results deploy-perf-table" data-testid="deploy-perf" data-count={a.perf.length} aria-labelledby="deploy-perf-h">
        <thead>
          <tr>
            <th scope="col">March (chip)</th><th scope="col">Latency ms</th><th scope="col" className="bar-col"><span className="sr-only">Latency bar</span></th>
            <th scope="col">FPS</th><th scope="col">MACs i8×i8</th><th scope="col">MACs i16×i8</th><th scope="col">DDR bytes</th><th scope="col">Params bytes</th>
          </tr>
        </thead>
        <tbody>
          {a.perf.map((p) => (
            <tr key={p.march} data-testid="deploy-perf-row" data-march={p.march} data-latency-ms={p.totals.latency_ms} className={p.march === a.march ? 'own' : undefined}>
              <td title={`${p.peak_tops} TOPS, ${p.ddr_gbps} GB/s`}>{p.march}{p.march === a.march ? ' (model)' : ''} <span className="hint">{p.chip}</span></td>
              <td>{formatFixed(p.totals.latency_ms, 4)}</td>
              <td className="bar-col" aria-hidden="true"><span className="bar" style={{ width: `${(100 * p.totals.latency_ms) / maxLatency}%` }} /></td>
              <td>{formatInt(p.totals.fps)}</td>
              <td>{formatCompact(p.totals.macs_int8xint8)}</td>
              <td>{formatCompact(p.totals.macs_int16xint8)}</td>
              <td>{formatCompact(p.totals.ddr_bytes)}</td>
              <td>{formatCompact(p.totals.param_bytes)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="hint">An estimate from public peak figures and stated assumptions (a roofline lower bound), not a measurement. The integer arithmetic follows the model&apos;s march ({a.march}).</p>
    </div>
  );
}
