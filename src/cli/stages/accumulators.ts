/**
 * The accumulator check of int_infer and compile (src/quant/accumulator-bound.ts): prints the layers whose int32
 * accumulator can wrap and the saturated biases (or that there are none), and returns the report.json section.
 */
import type { IntModel } from '../../quant/convert.ts';
import { accumulatorsForReport, checkAccumulators, describeAccumulatorCheck } from '../../quant/accumulator-bound.ts';

export function printAccumulatorCheck(im: IntModel): ReturnType<typeof accumulatorsForReport> {
  const check = checkAccumulators(im);
  const report = accumulatorsForReport(check);
  const problems = describeAccumulatorCheck(check);
  if (problems.length) {
    console.log(`Warning: int32 arithmetic of ${im.march} at risk (docs/fixed-point.md §6.6; --strict-accumulators refuses such models):\n  ${problems.join('\n  ')}`);
  } else {
    console.log(`Accumulators: every int32 accumulator fits in the worst case (largest 2^${report.worst_bits.toFixed(1)}); no saturated bias`);
  }
  return report;
}
