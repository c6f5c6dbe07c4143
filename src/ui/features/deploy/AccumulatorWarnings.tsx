/**
 * The converted model's int32 risks (src/quant/accumulator-bound.ts): layers whose accumulator can wrap for some
 * input in range, and biases convert had to saturate. Shown as soon as the worker converted the model; a short
 * all-clear line otherwise.
 */
import { useStudio } from '../../studio-context.tsx';

export function AccumulatorWarnings() {
  const acc = useStudio((s) => s.deploy.artifacts?.accumulators);
  const march = useStudio((s) => s.deploy.artifacts?.march);
  if (!acc) return null;
  const problems = acc.at_risk.length + acc.saturated_biases.length;
  if (!problems) {
    return (
      <p className="hint" data-testid="deploy-accumulators" data-at-risk={0} data-saturated={0}>
        int32 accumulators: every layer fits in the worst case (largest 2^{acc.worst_bits.toFixed(1)}); no saturated bias.
      </p>
    );
  }
  return (
    <div className="error" role="alert" data-testid="deploy-accumulators" data-at-risk={acc.at_risk.length} data-saturated={acc.saturated_biases.length}>
      <strong>int32 arithmetic of {march} at risk</strong>
      <ul>
        {acc.at_risk.map((b) => (
          <li key={`r-${b.layer}`} data-layer={b.layer}>
            {b.layer} ({b.op}): the accumulator reaches {b.min}..{b.max} (2^{b.bits.toFixed(2)}) for inputs in {b.input[0]}..{b.input[1]}:
            it wraps for some inputs (int8 activations at its input, or fewer taps, keep it in range)
          </li>
        ))}
        {acc.saturated_biases.map((s) => (
          <li key={`s-${s.layer}`} data-layer={s.layer}>
            {s.layer}: bias saturated at int32 in {s.channels.length} channel{s.channels.length > 1 ? 's' : ''} ({s.channels.slice(0, 8).join(', ')}{s.channels.length > 8 ? ', …' : ''})
          </li>
        ))}
      </ul>
    </div>
  );
}
