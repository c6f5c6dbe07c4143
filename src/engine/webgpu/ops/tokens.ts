/**
 * The transformer kernels on WebGPU: axis permutation (shaders/transpose.wgsl), the batched matrix product
 * (shaders/bmm.wgsl) and the row-wise softmax / layer norm (shaders/row_norm.wgsl). Shapes are checked by the CPU
 * reference's helpers (src/engine/reference/tokens.ts), so both backends refuse the same calls.
 */
import bmmCode from '../../../../shaders/bmm.wgsl';
import rowCode from '../../../../shaders/row_norm.wgsl';
import transposeCode from '../../../../shaders/transpose.wgsl';
import { matmulDims, permutedShape } from '../../reference/tokens.ts';
import { grid1d, type GpuContext, type GpuTensor } from '../gpu-context.ts';
import { uniforms } from '../uniforms.ts';

const MAX_RANK = 6;
const TP = uniforms('Params', {
  n: 'u32', d0: 'u32', d1: 'u32', d2: 'u32', d3: 'u32', d4: 'u32', d5: 'u32',
  s0: 'u32', s1: 'u32', s2: 'u32', s3: 'u32', s4: 'u32', s5: 'u32',
});
const TP_SRC = `${TP.wgsl}\n${transposeCode}`;
const MM = uniforms('Params', {
  total: 'u32', M: 'u32', K: 'u32', N: 'u32', sa: 'u32', sb: 'u32', sam: 'u32', sak: 'u32', sbk: 'u32', sbn: 'u32',
});
const MM_SRC = `${MM.wgsl}\n${bmmCode}`;
const RN = uniforms('Params', { rows: 'u32', d: 'u32', eps: 'f32' });
const RN_SRC = `${RN.wgsl}\n${rowCode}`;

export function transpose(ctx: GpuContext, x: GpuTensor, perm: readonly number[]): GpuTensor {
  const shape = permutedShape(x.shape, perm);
  if (shape.length > MAX_RANK) throw new Error(`transpose: rank ${shape.length} (at most ${MAX_RANK})`);
  const out = ctx.empty(shape);
  if (x.size === 0) return out;
  const inStride: number[] = [];
  for (let k = x.shape.length - 1, s = 1; k >= 0; k--) { inStride[k] = s; s *= x.shape[k]; }
  // leading unused axes: size 1, stride 0
  const pad = MAX_RANK - shape.length;
  const d = [...new Array<number>(pad).fill(1), ...shape];
  const s = [...new Array<number>(pad).fill(0), ...perm.map((p) => inStride[p])];
  ctx.run({
    key: 'transpose', code: TP_SRC, entry: 'transpose', inputs: [x], outputs: [out], workgroups: grid1d(x.size),
    params: TP.pack({ n: x.size, d0: d[0], d1: d[1], d2: d[2], d3: d[3], d4: d[4], d5: d[5], s0: s[0], s1: s[1], s2: s[2], s3: s[3], s4: s[4], s5: s[5] }),
  });
  return out;
}

export function matmul(ctx: GpuContext, a: GpuTensor, b: GpuTensor, transA: boolean, transB: boolean): GpuTensor {
  const { batch, M, K, N } = matmulDims(a.shape, b.shape, transA, transB);
  const shape = [...a.shape.slice(0, -2), M, N];
  if (batch * M * N === 0) return ctx.zeros(shape);
  const out = ctx.empty(shape);
  const [sam, sak] = transA ? [1, M] : [K, 1];
  const [sbk, sbn] = transB ? [1, K] : [N, 1];
  ctx.run({
    key: 'bmm', code: MM_SRC, entry: 'bmm', inputs: [a, b], outputs: [out], workgroups: grid1d(batch * M * N),
    params: MM.pack({ total: batch * M * N, M, K, N, sa: M * K, sb: K * N, sam, sak, sbk, sbn }),
  });
  return out;
}

function rows(op: string, x: GpuTensor): { rows: number; d: number } {
  const d = x.shape[x.shape.length - 1];
  if (!d) throw new Error(`${op}: expected a tensor with a non-empty last axis, got [${x.shape}]`);
  return { rows: x.size / d, d };
}

export function softmax(ctx: GpuContext, x: GpuTensor): GpuTensor {
  const r = rows('softmax', x);
  const out = ctx.empty(x.shape);
  ctx.run({ key: 'row_norm', code: RN_SRC, entry: 'softmax', inputs: [x], outputs: [out], workgroups: grid1d(r.rows), params: RN.pack({ ...r, eps: 0 }) });
  return out;
}

export function softmaxBackward(ctx: GpuContext, dy: GpuTensor, y: GpuTensor): GpuTensor {
  if (dy.size !== y.size) throw new Error(`softmaxBackward: dy [${dy.shape}] and y [${y.shape}] differ`);
  const r = rows('softmaxBackward', dy);
  const out = ctx.empty(dy.shape);
  ctx.run({ key: 'row_norm', code: RN_SRC, entry: 'softmax_backward', inputs: [dy, y], outputs: [out], workgroups: grid1d(r.rows), params: RN.pack({ ...r, eps: 0 }) });
  return out;
}

export function layerNorm(ctx: GpuContext, x: GpuTensor, gamma: GpuTensor, beta: GpuTensor, eps: number): [GpuTensor, GpuTensor] {
  const r = rows('layerNorm', x);
  if (gamma.size !== r.d || beta.size !== r.d) throw new Error(`layerNorm: gamma [${gamma.shape}] / beta [${beta.shape}] for ${r.d} features`);
  const y = ctx.empty(x.shape);
  const stats = ctx.empty([r.rows, 2]);
  ctx.run({ key: 'row_norm', code: RN_SRC, entry: 'layernorm', inputs: [x, gamma, beta], outputs: [y, stats], workgroups: grid1d(r.rows), params: RN.pack({ ...r, eps }) });
  return [y, stats];
}

export function layerNormBackward(ctx: GpuContext, dy: GpuTensor, x: GpuTensor, stats: GpuTensor, gamma: GpuTensor): [GpuTensor, GpuTensor, GpuTensor] {
  const r = rows('layerNormBackward', dy);
  if (x.size !== dy.size || stats.size !== 2 * r.rows || gamma.size !== r.d) throw new Error(`layerNormBackward: dy [${dy.shape}], x [${x.shape}], stats [${stats.shape}], gamma [${gamma.shape}] do not fit`);
  const dx = ctx.empty(dy.shape);
  const dg = ctx.empty([r.d]);
  const db = ctx.empty([r.d]);
  const params = RN.pack({ ...r, eps: 0 });
  ctx.run({ key: 'row_norm', code: RN_SRC, entry: 'layernorm_dx', inputs: [dy, x, stats, gamma], outputs: [dx], workgroups: grid1d(r.rows), params });
  ctx.run({ key: 'row_norm', code: RN_SRC, entry: 'layernorm_dparams', inputs: [dy, x, stats], outputs: [dg, db], workgroups: grid1d(r.d), params });
  return [dx, dg, db];
}
