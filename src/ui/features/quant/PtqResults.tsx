/** What the PTQ algorithms of the last calibration did: AdaRound per layer, automatic calibration per site. */
import { formatFixed } from '../../format.ts';
import { useStudio } from '../../studio-context.tsx';
import { AUTO_CALIB_CRITERION_LABELS, type AutoCalibCandidate, type AutoCalibCriterion } from '../../../quant/ptq/auto-calib.ts';

// A result kept in a project saved before the criterion was a choice has `l2` (the guide's criterion) instead.
type Scored = Pick<AutoCalibCandidate, 'distance'> & { l2?: number };
const score = (x: Scored) => (x.distance ?? x.l2 ?? NaN).toPrecision(3);
const criterionName = (c: AutoCalibCriterion | undefined) => AUTO_CALIB_CRITERION_LABELS[c ?? 'l2'];

export function PtqResults() {
  const ptq = useStudio((s) => s.quant.calib?.ptq ?? null);
  const acc1 = useStudio((s) => s.quant.calib?.acc1 ?? null);
  if (!ptq || (!ptq.adaround && !ptq.autoCalib)) return null;
  const ada = ptq.adaround, auto = ptq.autoCalib;
  return (
    <div className="ptq-results" data-testid="ptq-results">
      {ada && (
        <>
          <h3>AdaRound</h3>
          <p className="hint" data-testid="adaround-summary" data-nearest={ada.nearestAcc1} data-adaround={acc1 ?? ''}>
            Round-to-nearest {formatFixed(ada.nearestAcc1, 2)}% → AdaRound {acc1 !== null ? `${formatFixed(acc1, 2)}%` : '–'} ({ada.config.numSteps} steps
            per layer, {ada.images} images, {formatFixed(ada.seconds, 1)} s)
          </p>
          <table className="results" data-testid="adaround-table">
            <thead><tr><th scope="col">Layer</th><th scope="col">Rounding</th><th scope="col">Layer error nearest → AdaRound</th><th scope="col">Weights changed</th></tr></thead>
            <tbody>
              {ada.layers.map((l) => (
                <tr key={l.node}>
                  <td>{l.node}</td>
                  <td>{l.rounding}</td>
                  <td>{l.nearest_error !== null ? `${l.nearest_error.toPrecision(3)} → ${l.adaround_error!.toPrecision(3)}` : '–'}</td>
                  <td>{l.changed} / {l.weights}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {auto && (
        <>
          <h3>Automatic calibration</h3>
          {auto.uniform && (
            <p className="hint" data-testid="auto-calib-summary">
              Whole model with one observer, {criterionName(auto.criterion)}: {auto.uniform.map((u) => `${u.observer} ${score(u)}`).join(', ')}; started
              from {auto.start}, ended at {score(auto)} ({auto.images} images{auto.observe_images !== undefined && auto.observe_images < auto.images ? `, observers on the first ${auto.observe_images}` : ''}
              {auto.gate ? `, gate z ≥ ${auto.gate}` : ''}, {formatFixed(auto.seconds, 1)} s)
            </p>
          )}
          <table className="results" data-testid="auto-calib-table">
            <thead><tr><th scope="col">Site</th><th scope="col">Chosen</th><th scope="col">{criterionName(auto.criterion)} per candidate (current: the scale it had)</th></tr></thead>
            <tbody>
              {auto.choices.map((c) => (
                <tr key={c.site}>
                  <td>{c.site}</td>
                  <td>{c.observer}{c.changed ? ' (changed)' : c.gated ? ' (kept by the gate)' : ''}</td>
                  <td>{c.candidates.map((t) => `${t.observer} ${score(t)}${t.z !== undefined && t.observer !== 'current' ? ` (z ${t.z.toFixed(1)})` : ''}`).join(', ') || '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
