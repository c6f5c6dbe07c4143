/**
 * The strict accumulator rule of convert (`accumulators: 'refuse'`, the CLI's --strict-accumulators): a model whose
 * int32 accumulators can wrap, or whose biases were saturated, is refused with the layers named
 * (docs/fixed-point.md §6.6). Apart from convert.ts so the converter only calls it.
 */
import { checkAccumulators, describeAccumulatorCheck } from './accumulator-bound.ts';
import { ConvertError, type IntModel } from './convert.ts';

export function refuseAccumulatorOverflow(model: IntModel): void {
  const problems = describeAccumulatorCheck(checkAccumulators(model));
  if (problems.length) {
    throw new ConvertError(`${model.name}: the ${model.march} march's int32 arithmetic would overflow:\n  ${problems.join('\n  ')}\n`
      + 'use int8 activations at these inputs, fewer input channels or taps per output, or convert without --strict-accumulators '
      + 'to simulate the wrap and see its effect in the deployment check');
  }
}
