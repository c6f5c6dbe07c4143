/**
 * The WebGPU engine: the Backend contract over GpuContext. Each op family lives in ops/<family>.ts
 * with its WGSL in shaders/<family>.wgsl; this class only routes and owns the context.
 */
import type {
  AdamParams, Backend, BTensor, ChannelLayout, Conv2dParams, Pool2dParams, QParamsUpdate, QuantRange, ResampleAxis, SgdParams, Shape,
} from '../backend.ts';
import { GpuContext, GpuTensor } from './gpu-context.ts';
import * as ew from './ops/elementwise.ts';
import * as conv from './ops/conv2d.ts';
import * as dense from './ops/linear.ts';
import * as bn from './ops/batchnorm.ts';
import * as pool from './ops/pool.ts';
import * as cat from './ops/concat.ts';
import * as gather from './ops/gather-channels.ts';
import * as loss from './ops/loss.ts';
import * as distill from './ops/distill-loss.ts';
import * as optim from './ops/optim.ts';
import * as fq from './ops/fake-quant.ts';
import * as observe from './ops/observe.ts';
import * as qp from './ops/qparams.ts';
import * as exact from './ops/fq-exact.ts';
import type { ConvExactSpec, ExactSpec, IntPart } from '../../qmath/requant-exact.ts';
import * as cs from './ops/channel-scale.ts';
import * as resample from './ops/resample.ts';
import * as act from './ops/activation.ts';
import * as tok from './ops/tokens.ts';
import type { UnaryAct } from '../unary-act.ts';

const g = (t: BTensor): GpuTensor => {
  if (!(t instanceof GpuTensor)) throw new Error('tensor does not belong to the WebGPU backend');
  return t;
};

export class WebGpuBackend implements Backend {
  readonly kind = 'webgpu' as const;
  readonly ctx: GpuContext;

  /** `owner` keeps the object that created the device alive (Dawn's GPU in Node). */
  constructor(device: GPUDevice, readonly adapter: string, private owner: unknown = null) {
    this.ctx = new GpuContext(device);
  }

  upload(data: Float32Array, shape: Shape): BTensor { return this.ctx.upload(data, shape); }
  zeros(shape: Shape): BTensor { return this.ctx.zeros(shape); }
  read(t: BTensor): Promise<Float32Array> { return this.ctx.read(g(t)); }
  release(t: BTensor): void { this.ctx.release(g(t)); }
  liveTensors(): number { return this.ctx.pool.live; }
  flush(): void { this.ctx.flush(); }
  sync(): Promise<void> { return this.ctx.sync(); }
  dispose(): void {
    this.ctx.dispose();
    this.ctx.device.destroy();
    this.owner = null;
  }

  reshape(x: BTensor, shape: Shape): BTensor { return ew.reshape(this.ctx, g(x), shape); }
  concatChannels(xs: readonly BTensor[]): BTensor { return cat.concatChannels(this.ctx, xs.map(g)); }
  sliceChannels(x: BTensor, start: number, count: number): BTensor { return cat.sliceChannels(this.ctx, g(x), start, count); }
  gatherChannels(x: BTensor, index: readonly number[]): BTensor { return gather.gatherChannels(this.ctx, g(x), index); }

  transpose(x: BTensor, perm: readonly number[]): BTensor { return tok.transpose(this.ctx, g(x), perm); }
  matmul(a: BTensor, b: BTensor, transA: boolean, transB: boolean): BTensor { return tok.matmul(this.ctx, g(a), g(b), transA, transB); }
  softmax(x: BTensor): BTensor { return tok.softmax(this.ctx, g(x)); }
  softmaxBackward(dy: BTensor, y: BTensor): BTensor { return tok.softmaxBackward(this.ctx, g(dy), g(y)); }
  layerNorm(x: BTensor, gamma: BTensor, beta: BTensor, eps: number): [BTensor, BTensor] { return tok.layerNorm(this.ctx, g(x), g(gamma), g(beta), eps); }
  layerNormBackward(dy: BTensor, x: BTensor, stats: BTensor, gamma: BTensor): [BTensor, BTensor, BTensor] {
    return tok.layerNormBackward(this.ctx, g(dy), g(x), g(stats), g(gamma));
  }
  resample2d(x: BTensor, rows: ResampleAxis, cols: ResampleAxis): BTensor { return resample.resample2d(this.ctx, g(x), rows, cols); }

  add(a: BTensor, b: BTensor): BTensor { return ew.add(this.ctx, g(a), g(b)); }
  addChannelBias(x: BTensor, b: BTensor): BTensor { return cs.addChannelBias(this.ctx, g(x), g(b)); }
  scale(a: BTensor, s: number): BTensor { return ew.scale(this.ctx, g(a), s); }
  affine(x: BTensor, a: number, b: number): BTensor { return ew.affine(this.ctx, g(x), a, b); }
  clamp(x: BTensor, lo: number, hi: number): BTensor { return ew.clamp(this.ctx, g(x), lo, hi); }
  clampBackward(dy: BTensor, x: BTensor, lo: number, hi: number): BTensor {
    return ew.clampBackward(this.ctx, g(dy), g(x), lo, hi);
  }
  unaryAct(x: BTensor, a: UnaryAct): BTensor { return act.unaryAct(this.ctx, g(x), a); }
  unaryActBackward(dy: BTensor, x: BTensor, a: UnaryAct): BTensor { return act.unaryActBackward(this.ctx, g(dy), g(x), a); }
  channelScale(x: BTensor, s: BTensor, layout: ChannelLayout, divide = false): BTensor {
    return cs.channelScale(this.ctx, g(x), g(s), layout, divide);
  }

  linear(x: BTensor, w: BTensor, b: BTensor | null): BTensor { return dense.linear(this.ctx, g(x), g(w), b ? g(b) : null); }
  linearBackwardInput(dy: BTensor, w: BTensor): BTensor { return dense.linearBackwardInput(this.ctx, g(dy), g(w)); }
  linearBackwardWeight(dy: BTensor, x: BTensor): BTensor { return dense.linearBackwardWeight(this.ctx, g(dy), g(x)); }
  sumRows(dy: BTensor): BTensor { return dense.sumRows(this.ctx, g(dy)); }

  conv2d(x: BTensor, w: BTensor, b: BTensor | null, p: Conv2dParams): BTensor {
    return conv.conv2d(this.ctx, g(x), g(w), b ? g(b) : null, p);
  }
  conv2dBackwardInput(dy: BTensor, w: BTensor, xShape: Shape, p: Conv2dParams): BTensor {
    return conv.conv2dBackwardInput(this.ctx, g(dy), g(w), xShape, p);
  }
  conv2dBackwardWeight(dy: BTensor, x: BTensor, wShape: Shape, p: Conv2dParams): BTensor {
    return conv.conv2dBackwardWeight(this.ctx, g(dy), g(x), wShape, p);
  }
  channelSum(x: BTensor): BTensor { return conv.channelSum(this.ctx, g(x)); }

  bnStats(x: BTensor): [BTensor, BTensor] { return bn.bnStats(this.ctx, g(x)); }
  bnForward(x: BTensor, mean: BTensor, variance: BTensor, gamma: BTensor, beta: BTensor, eps: number): BTensor {
    return bn.bnForward(this.ctx, g(x), g(mean), g(variance), g(gamma), g(beta), eps);
  }
  bnBackward(dy: BTensor, x: BTensor, mean: BTensor, variance: BTensor, gamma: BTensor, eps: number,
    training: boolean): [BTensor, BTensor, BTensor] {
    return bn.bnBackward(this.ctx, g(dy), g(x), g(mean), g(variance), g(gamma), eps, training);
  }
  emaInPlace(running: BTensor, batch: BTensor, momentum: number, batchScale: number): void {
    bn.emaInPlace(this.ctx, g(running), g(batch), momentum, batchScale);
  }

  avgPool2d(x: BTensor, p: Pool2dParams): BTensor { return pool.avgPool2d(this.ctx, g(x), p); }
  avgPool2dBackward(dy: BTensor, xShape: Shape, p: Pool2dParams): BTensor {
    return pool.avgPool2dBackward(this.ctx, g(dy), xShape, p);
  }
  maxPool2d(x: BTensor, p: Pool2dParams): BTensor { return pool.maxPool2d(this.ctx, g(x), p); }
  maxPool2dBackward(dy: BTensor, x: BTensor, p: Pool2dParams): BTensor {
    return pool.maxPool2dBackward(this.ctx, g(dy), g(x), p);
  }
  globalAvgPool(x: BTensor): BTensor { return pool.globalAvgPool(this.ctx, g(x)); }
  globalAvgPoolBackward(dy: BTensor, xShape: Shape): BTensor { return pool.globalAvgPoolBackward(this.ctx, g(dy), xShape); }

  softmaxCrossEntropy(logits: BTensor, labels: BTensor): [BTensor, BTensor] {
    return loss.softmaxCrossEntropy(this.ctx, g(logits), g(labels));
  }
  softmaxCrossEntropyBackward(probs: BTensor, labels: BTensor, gradScale: number): BTensor {
    return loss.softmaxCrossEntropyBackward(this.ctx, g(probs), g(labels), gradScale);
  }
  mseLoss(a: BTensor, b: BTensor): [BTensor, BTensor] { return distill.mseLoss(this.ctx, g(a), g(b)); }
  softKlLoss(s: BTensor, t: BTensor): [BTensor, BTensor] { return distill.softKlLoss(this.ctx, g(s), g(t)); }
  scaleByScalar(x: BTensor, s: BTensor, c: number): BTensor { return distill.scaleByScalar(this.ctx, g(x), g(s), c); }

  fakeQuantize(x: BTensor, qparams: BTensor, layout: ChannelLayout, range: QuantRange): BTensor {
    return fq.fakeQuantize(this.ctx, g(x), g(qparams), layout, range).out;
  }
  fakeQuantizeBackward(dy: BTensor, x: BTensor, qparams: BTensor, layout: ChannelLayout, range: QuantRange): BTensor {
    return fq.fakeQuantizeBackward(this.ctx, g(dy), g(x), g(qparams), layout, range);
  }
  minMax(x: BTensor, layout: ChannelLayout): [BTensor, BTensor] { return observe.minMax(this.ctx, g(x), layout); }
  histogram(x: BTensor, bins: number, lo: number, hi: number): BTensor { return observe.histogram(this.ctx, g(x), bins, lo, hi); }
  updateQParamsInPlace(running: BTensor, batchMin: BTensor, batchMax: BTensor, qparams: BTensor, u: QParamsUpdate): void {
    qp.updateQParams(this.ctx, g(running), g(batchMin), g(batchMax), g(qparams), u);
  }
  biasQParams(xQParams: BTensor, wQParams: BTensor): BTensor { return qp.biasQParams(this.ctx, g(xQParams), g(wQParams)); }
  requantExact(spec: ExactSpec, v: BTensor, a: BTensor, b: BTensor | null, qa: BTensor, qb: BTensor | null, qo: BTensor): BTensor {
    return exact.requantExact(this.ctx, spec, g(v), g(a), b ? g(b) : null, g(qa), qb ? g(qb) : null, g(qo));
  }
  toInt(x: BTensor, qparams: BTensor, layout: ChannelLayout, part?: IntPart): BTensor { return exact.toInt(this.ctx, g(x), g(qparams), layout, part); }
  requantConvExact(spec: ConvExactSpec, v: BTensor, acc: BTensor, accLo: BTensor | null, bias: BTensor | null, bqp: BTensor | null, a: BTensor | null, qa: BTensor | null, qx: BTensor, qw: BTensor, qo: BTensor): BTensor {
    const o = (t: BTensor | null) => (t ? g(t) : null);
    return exact.requantConvExact(this.ctx, spec, g(v), g(acc), o(accLo), o(bias), o(bqp), o(a), o(qa), g(qx), g(qw), g(qo));
  }

  sgdStepInPlace(param: BTensor, grad: BTensor, momentumBuf: BTensor | null, p: SgdParams, firstStep: boolean): void {
    optim.sgdStep(this.ctx, g(param), g(grad), momentumBuf ? g(momentumBuf) : null, p, firstStep);
  }
  adamStepInPlace(param: BTensor, grad: BTensor, m: BTensor, v: BTensor, p: AdamParams): void {
    optim.adamStep(this.ctx, g(param), g(grad), g(m), g(v), p);
  }
}
