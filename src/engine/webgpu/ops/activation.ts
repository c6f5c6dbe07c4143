/** The unary activations of Backend.unaryAct / unaryActBackward (shaders/activation.wgsl), one kernel each way. */
import code from '../../../../shaders/activation.wgsl';
import { unaryActCode, type UnaryAct } from '../../unary-act.ts';
import { grid1d, type GpuContext, type GpuTensor } from '../gpu-context.ts';
import { uniforms } from '../uniforms.ts';

const ACT = uniforms('Act', { n: 'u32', kind: 'u32', alpha: 'f32', beta: 'f32' });
const SRC = `${ACT.wgsl}\n${code}`;

const F32_MAX = 3.4028234663852886e38;
/** Uniforms must be finite: an open clip bound (±Infinity) is the largest finite f32. */
const finite = (v: number) => Math.max(-F32_MAX, Math.min(F32_MAX, v));
const pack = (n: number, a: UnaryAct) => ACT.pack({ n, kind: unaryActCode(a.kind), alpha: finite(a.alpha), beta: finite(a.beta) });

export function unaryAct(ctx: GpuContext, x: GpuTensor, a: UnaryAct): GpuTensor {
  const out = ctx.empty(x.shape);
  ctx.run({ key: 'activation', code: SRC, entry: 'forward', inputs: [x], outputs: [out], params: pack(x.size, a), workgroups: grid1d(x.size) });
  return out;
}

export function unaryActBackward(ctx: GpuContext, dy: GpuTensor, x: GpuTensor, a: UnaryAct): GpuTensor {
  if (dy.size !== x.size) throw new Error(`unaryActBackward: dy [${dy.shape}] and x [${x.shape}] differ`);
  const out = ctx.empty(dy.shape);
  ctx.run({ key: 'activation', code: SRC, entry: 'backward', inputs: [dy, x], outputs: [out], params: pack(dy.size, a), workgroups: grid1d(dy.size) });
  return out;
}
