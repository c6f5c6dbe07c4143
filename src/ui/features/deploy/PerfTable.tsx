/**
 * The performance estimate per march (batch 1; docs/perf-model.md): the latency and FPS as a range that adds the
 * per-frame costs a roofline leaves out, the roofline itself, MACs by precision, DDR bytes; below, the assumptions
 * and what each cost adds for the model's own march.
 */
import { FRAME_ASSUMPTIONS, type FrameRange } from '../../../perf/frame-range.ts';
import { formatCompact, formatFixed, formatInt } from '../../format.ts';
import { useStudio } from '../../studio-context.tsx';

const ms = (v: number) => (v >= 0.1 ? formatFixed(v, 2) : v >= 0.001 ? formatFixed(v, 4) : v.toExponential(1));
const span = (s: [number, number]) => `${ms(s[0])} – ${ms(s[1])}`;

/** What each per-frame cost adds, in ms, for one march. */
function RangeParts({ r }: { r: FrameRange }) {
  const fa = FRAME_ASSUMPTIONS;
  const rows: [string, string, [number, number]][] = [
    ['Roofline at 100 % / 25 % of peak compute and bandwidth', 'MACs and DDR bytes only', r.parts.roofline],
    ['Per inference', `${fa.invokeMs[0]}–${fa.invokeMs[1]} ms: the runtime call, cache maintenance, the completion interrupt`, r.parts.invoke],
    ['Layer dispatch', `${fa.layerUs[0]}–${fa.layerUs[1]} µs × ${r.layers} layers: instructions and the wait for the previous layer`, r.parts.dispatch],
    ['DDR latency', `${fa.ddrLatencyUs[0]}–${fa.ddrLatencyUs[1]} µs × ${r.layers} layers: a layer's first read waits a DDR round trip`, r.parts.ddrLatency],
    ['Input / output transfer', `${formatInt(r.ioBytes)} bytes at ${fa.ioGBps[0]}–${fa.ioGBps[1]} GB/s: the float input in, the float output back`, r.parts.io],
  ];
  return (
    <table className="results deploy-perf-parts" data-testid="deploy-perf-parts">
      <thead><tr><th scope="col">Cost</th><th scope="col">Assumption</th><th scope="col">Adds ms</th></tr></thead>
      <tbody>
        {rows.map(([name, what, s]) => (
          <tr key={name} data-testid="deploy-perf-part" data-low={s[0]} data-high={s[1]}><td>{name}</td><td>{what}</td><td>{span(s)}</td></tr>
        ))}
      </tbody>
    </table>
  );
}

export function PerfTable() {
  const a = useStudio((s) => s.deploy.artifacts);
  if (!a) return null;
  const maxLatency = Math.max(...a.perf.map((p) => p.range?.latencyMs[1] ?? p.totals.latency_ms), 1e-12);
  const own = a.perf.find((p) => p.march === a.march)?.range;
  return (
    <div className="deploy-perf">
      <h3 id="deploy-perf-h">Performance estimate per march</h3>
      <table className="results deploy-perf-table" data-testid="deploy-perf" data-count={a.perf.length} aria-labelledby="deploy-perf-h">
        <thead>
          <tr>
            <th scope="col">March (chip)</th><th scope="col">Latency ms (range)</th><th scope="col" className="bar-col"><span className="sr-only">Latency bar</span></th>
            <th scope="col">FPS (range)</th><th scope="col" title="MACs and DDR bytes at 100 % of peak: a lower bound that leaves out the per-frame costs">Roofline ms</th>
            <th scope="col">MACs i8×i8</th><th scope="col">MACs i16×i8</th><th scope="col">DDR bytes</th><th scope="col">Params bytes</th>
          </tr>
        </thead>
        <tbody>
          {a.perf.map((p) => {
            const r = p.range;
            return (
              <tr key={p.march} data-testid="deploy-perf-row" data-march={p.march} data-latency-ms={p.totals.latency_ms}
                data-latency-low={r?.latencyMs[0] ?? ''} data-latency-high={r?.latencyMs[1] ?? ''} data-fps-low={r?.fps[0] ?? ''} data-fps-high={r?.fps[1] ?? ''}
                className={p.march === a.march ? 'own' : undefined}>
                <td title={`${p.peak_tops} TOPS, ${p.ddr_gbps} GB/s`}>{p.march}{p.march === a.march ? ' (model)' : ''} <span className="hint">{p.chip}</span></td>
                <td>{r ? span(r.latencyMs) : '–'}</td>
                <td className="bar-col" aria-hidden="true"><span className="bar" style={{ width: `${(100 * (r?.latencyMs[1] ?? p.totals.latency_ms)) / maxLatency}%` }} /></td>
                <td>{r ? `${formatInt(r.fps[0])} – ${formatInt(r.fps[1])}` : '–'}</td>
                <td>{ms(p.totals.latency_ms)}</td>
                <td>{formatCompact(p.totals.macs_int8xint8)}</td>
                <td>{formatCompact(p.totals.macs_int16xint8)}</td>
                <td>{formatCompact(p.totals.ddr_bytes)}</td>
                <td>{formatCompact(p.totals.param_bytes)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="hint" data-testid="deploy-perf-assumptions">
        An estimate, not a measurement. The roofline alone (public peak figures, every feature map through DDR, 100 % utilisation) is a lower
        bound; the range adds per-frame costs Horizon does not publish, so each is an assumption (docs/perf-model.md §5). Pre- and
        post-processing on the CPU are not included. The integer arithmetic follows the model&apos;s march ({a.march}).
        {!own && ' This check was saved before the range existed: run it again to see it.'}
      </p>
      {own && (
        <details data-testid="deploy-perf-details" open>
          <summary>What the range adds on {a.march} ({Math.round(100 * own.overheadShare[0])}–{Math.round(100 * own.overheadShare[1])} % of it is not the roofline)</summary>
          <RangeParts r={own} />
        </details>
      )}
    </div>
  );
}
