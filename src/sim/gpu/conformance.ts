/**
 * 'webgpu' conformance runners of the fixed-point simulator: quantized_conv2d, quantized_linear, quantized_add,
 * quantized_relu on the WGSL integer kernels (src/sim/gpu/kernels.ts), 'pytorch' (qnnpack) mode. The runner bodies
 * and checks are the CPU runners' (src/sim/conformance-runners.ts); acc_int32 comes from the GPU accumulator kernel
 * and out_q from the fused accumulate + requantize dispatch. The device: the shared conformance backend
 * (src/conformance/gpu-lease.ts).
 */
import type { KindRunner } from '../../conformance/types.ts';
import type { GpuContext } from '../../engine/webgpu/gpu-context.ts';
import { withConformanceBackend } from '../../conformance/gpu-lease.ts';
import { intKinds, type IntDatapath } from '../conformance-runners.ts';
import { createGpuIntKernels, type GpuIntKernels } from './kernels.ts';

const kernelsByCtx = new WeakMap<GpuContext, GpuIntKernels>();

/** The WGSL datapath: the accumulator kernel for acc_int32, the fused accumulate + requantize for out_q. */
function datapath(k: GpuIntKernels): IntDatapath {
  return {
    async conv2d(input, geom, spec, out) {
      return { acc: (await k.conv2dAccumulate(input, geom)).acc, outQ: (await k.conv2dInt(input, geom, spec, out)).data };
    },
    async linear(input, spec, out) {
      return { acc: (await k.linearAccumulate(input)).acc, outQ: (await k.linearInt(input, spec, out)).data };
    },
    add: (a, aZeroPoint, b, bZeroPoint, params, out) => k.addInt(a, aZeroPoint, b, bZeroPoint, params, out),
    relu: (x, zeroPoint) => k.reluInt(x, zeroPoint),
  };
}

export const simGpuKinds: Record<string, KindRunner> = intKinds((run) =>
  withConformanceBackend(async ({ ctx }) => {
    let k = kernelsByCtx.get(ctx);
    if (!k) kernelsByCtx.set(ctx, (k = createGpuIntKernels(ctx)));
    return await run(datapath(k));
  }));
