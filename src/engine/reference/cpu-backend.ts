/**
 * The CPU reference backend: the Backend contract over Float32Array storage, implemented with the
 * plain-TypeScript reference functions of this folder. It is the oracle of the WebGPU kernel tests
 * and the fallback when WebGPU is unavailable.
 */
import { checkExact, convRequantExactRef, requantExactRef, toIntRef, type ConvExactSpec, type ExactSpec, type IntPart } from '../../qmath/requant-exact.ts';
import {
  conv2dOutShape, pool2dOutShape, sizeOf,
  type AdamParams, type Backend, type BTensor, type ChannelLayout, type Conv2dParams, type Pool2dParams, type QParamsUpdate,
  type QuantRange, type ResampleAxis, type SgdParams, type Shape,
} from '../backend.ts';
import { bnBackward, bnForward, bnStats, emaInPlace } from './batchnorm.ts';
import { channelScale } from './channel-scale.ts';
import { addChannelBias, resample2d } from './resample.ts';
import { concatChannels, gatherChannels, sliceChannels } from './concat.ts';
import { channelSum, conv2dBackwardInput, conv2dBackwardWeight, conv2dForward } from './conv2d.ts';
import { add, affine, clamp, clampBackward, scale } from './elementwise.ts';
import { unaryAct, unaryActBackward } from './activation.ts';
import type { UnaryAct } from '../unary-act.ts';
import { linearBackwardInput, linearBackwardWeight, linearForward, sumRows } from './linear.ts';
import { softmaxCrossEntropy, softmaxCrossEntropyBackward } from './loss.ts';
import * as distill from './distill-loss.ts';
import { adamStepInPlace, sgdStepInPlace } from './optim.ts';
import {
  avgPool2dBackward, avgPool2dForward, globalAvgPoolBackward, globalAvgPoolForward, maxPool2dBackward,
  maxPool2dForward,
} from './pool.ts';
import * as quant from './quant.ts';
import { torchHistc } from '../../qmath/histc.ts';
import type { FloatArray } from './types.ts';
import * as tok from './tokens.ts';

class CpuTensor implements BTensor {
  readonly shape: Shape;
  readonly size: number;
  constructor(shape: Shape, readonly data: Float32Array) {
    this.shape = Object.freeze([...shape]);
    this.size = data.length;
  }
}

function lastDim(t: BTensor): number {
  const d = t.shape[t.shape.length - 1];
  if (!d) throw new Error(`expected a tensor with a non-empty last axis, got [${t.shape.join(', ')}]`);
  return d;
}

function checkShape(shape: Shape): void {
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`invalid shape [${shape.join(', ')}]`);
}

export class CpuBackend implements Backend {
  readonly kind = 'cpu' as const;
  readonly adapter = 'CPU reference (TypeScript)';
  private readonly live = new Set<CpuTensor>();

  /** Wraps an array this backend owns (computed results are float32 by construction). */
  private wrap(data: FloatArray, shape: Shape): CpuTensor {
    const f32 = data instanceof Float32Array ? data : Float32Array.from(data);
    if (f32.length !== sizeOf(shape)) {
      throw new Error(`internal: ${f32.length} elements for shape [${shape.join(', ')}]`);
    }
    const t = new CpuTensor(shape, f32);
    this.live.add(t);
    return t;
  }

  /** The storage of a live handle of this backend. */
  private d(t: BTensor): Float32Array {
    if (!(t instanceof CpuTensor)) throw new Error('tensor does not belong to the CPU backend');
    if (!this.live.has(t)) throw new Error('use of a released tensor');
    return t.data;
  }

  upload(data: Float32Array, shape: Shape): BTensor {
    checkShape(shape);
    if (data.length !== sizeOf(shape)) {
      throw new Error(`upload: ${data.length} elements for shape [${shape.join(', ')}]`);
    }
    return this.wrap(new Float32Array(data), shape);
  }

  zeros(shape: Shape): BTensor {
    checkShape(shape);
    return this.wrap(new Float32Array(sizeOf(shape)), shape);
  }

  /** A copy of the values (errors, e.g. a released handle, reject the promise). */
  async read(t: BTensor): Promise<Float32Array> {
    return new Float32Array(this.d(t));
  }

  release(t: BTensor): void {
    if (!(t instanceof CpuTensor)) throw new Error('tensor does not belong to the CPU backend');
    if (!this.live.delete(t)) throw new Error('release of an already-released tensor (double free)');
  }

  liveTensors(): number {
    return this.live.size;
  }

  flush(): void {}
  async sync(): Promise<void> {}
  dispose(): void {}

  // ---- layout ----
  reshape(x: BTensor, shape: Shape): BTensor {
    checkShape(shape);
    if (sizeOf(shape) !== x.size) throw new Error(`reshape: [${x.shape.join(', ')}] to [${shape.join(', ')}]`);
    return this.wrap(new Float32Array(this.d(x)), shape);
  }

  concatChannels(xs: readonly BTensor[]): BTensor {
    const y = concatChannels(xs.map((x) => this.d(x)), xs.map((x) => x.shape));
    const shape = [...xs[0].shape];
    shape[1] = xs.reduce((s, x) => s + x.shape[1], 0);
    return this.wrap(y, shape);
  }

  sliceChannels(x: BTensor, start: number, count: number): BTensor {
    const shape = [...x.shape];
    shape[1] = count;
    return this.wrap(sliceChannels(this.d(x), x.shape, start, count), shape);
  }

  gatherChannels(x: BTensor, index: readonly number[]): BTensor {
    const shape = [...x.shape];
    shape[1] = index.length;
    return this.wrap(gatherChannels(this.d(x), x.shape, index), shape);
  }

  // ---- tokens ----
  transpose(x: BTensor, perm: readonly number[]): BTensor {
    return this.wrap(tok.transpose(this.d(x), x.shape, perm), tok.permutedShape(x.shape, perm));
  }

  matmul(a: BTensor, b: BTensor, transA: boolean, transB: boolean): BTensor {
    const d = tok.matmulDims(a.shape, b.shape, transA, transB);
    return this.wrap(tok.matmul(this.d(a), this.d(b), d, transA, transB), [...a.shape.slice(0, -2), d.M, d.N]);
  }

  softmax(x: BTensor): BTensor {
    return this.wrap(tok.softmax(this.d(x), lastDim(x)), x.shape);
  }

  softmaxBackward(dy: BTensor, y: BTensor): BTensor {
    return this.wrap(tok.softmaxBackward(this.d(dy), this.d(y), lastDim(dy)), dy.shape);
  }

  layerNorm(x: BTensor, gamma: BTensor, beta: BTensor, eps: number): [BTensor, BTensor] {
    const d = lastDim(x);
    const [y, stats] = tok.layerNorm(this.d(x), this.d(gamma), this.d(beta), d, eps);
    return [this.wrap(y, x.shape), this.wrap(stats, [x.size / d, 2])];
  }

  layerNormBackward(dy: BTensor, x: BTensor, stats: BTensor, gamma: BTensor): [BTensor, BTensor, BTensor] {
    const d = lastDim(dy);
    const [dx, dg, db] = tok.layerNormBackward(this.d(dy), this.d(x), this.d(stats), this.d(gamma), d);
    return [this.wrap(dx, dy.shape), this.wrap(dg, [d]), this.wrap(db, [d])];
  }

  resample2d(x: BTensor, rows: ResampleAxis, cols: ResampleAxis): BTensor {
    const r = resample2d(this.d(x), x.shape, rows, cols);
    return this.wrap(r.data, r.shape);
  }

  // ---- elementwise ----
  addChannelBias(x: BTensor, b: BTensor): BTensor {
    if (x.shape.length < 2 || b.size !== x.shape[1]) throw new Error(`addChannelBias: bias [${b.shape}] for [${x.shape}]`);
    return this.wrap(addChannelBias(this.d(x), x.shape, this.d(b)), x.shape);
  }

  add(a: BTensor, b: BTensor): BTensor {
    if (a.size !== b.size) throw new Error(`add: [${a.shape.join(', ')}] + [${b.shape.join(', ')}]`);
    return this.wrap(add(this.d(a), this.d(b)), a.shape);
  }

  scale(a: BTensor, s: number): BTensor {
    return this.wrap(scale(this.d(a), s), a.shape);
  }

  affine(x: BTensor, a: number, b: number): BTensor {
    return this.wrap(affine(this.d(x), a, b), x.shape);
  }

  clamp(x: BTensor, lo: number, hi: number): BTensor {
    return this.wrap(clamp(this.d(x), lo, hi), x.shape);
  }

  clampBackward(dy: BTensor, x: BTensor, lo: number, hi: number): BTensor {
    return this.wrap(clampBackward(this.d(dy), this.d(x), lo, hi), dy.shape);
  }

  unaryAct(x: BTensor, a: UnaryAct): BTensor {
    return this.wrap(unaryAct(this.d(x), a), x.shape);
  }

  unaryActBackward(dy: BTensor, x: BTensor, a: UnaryAct): BTensor {
    if (dy.size !== x.size) throw new Error(`unaryActBackward: dy [${dy.shape}] and x [${x.shape}] differ`);
    return this.wrap(unaryActBackward(this.d(dy), this.d(x), a), dy.shape);
  }

  channelScale(x: BTensor, s: BTensor, layout: ChannelLayout, divide = false): BTensor {
    return this.wrap(channelScale(this.d(x), this.d(s), layout, divide), x.shape);
  }

  // ---- dense ----
  /** x [N, K] (any shape whose size is N * K, N = shape[0]), w [O, K]. */
  private linearDims(x: BTensor, w: BTensor): [number, number, number] {
    const [O, K] = w.shape;
    const N = x.shape[0];
    if (w.shape.length !== 2 || N * K !== x.size) {
      throw new Error(`linear: x [${x.shape.join(', ')}] does not match w [${w.shape.join(', ')}]`);
    }
    return [N, K, O];
  }

  linear(x: BTensor, w: BTensor, b: BTensor | null): BTensor {
    const [N, K, O] = this.linearDims(x, w);
    return this.wrap(linearForward(this.d(x), this.d(w), b ? this.d(b) : null, N, K, O), [N, O]);
  }

  linearBackwardInput(dy: BTensor, w: BTensor): BTensor {
    const [O, K] = w.shape;
    const N = dy.shape[0];
    return this.wrap(linearBackwardInput(this.d(dy), this.d(w), N, K, O), [N, K]);
  }

  linearBackwardWeight(dy: BTensor, x: BTensor): BTensor {
    const N = dy.shape[0], O = dy.shape[1];
    const K = x.size / N;
    return this.wrap(linearBackwardWeight(this.d(dy), this.d(x), N, K, O), [O, K]);
  }

  sumRows(dy: BTensor): BTensor {
    const N = dy.shape[0], O = dy.shape[1];
    return this.wrap(sumRows(this.d(dy), N, O), [O]);
  }

  // ---- convolution ----
  conv2d(x: BTensor, w: BTensor, b: BTensor | null, p: Conv2dParams): BTensor {
    const y = conv2dForward(this.d(x), x.shape, this.d(w), w.shape, b ? this.d(b) : null, p);
    return this.wrap(y, conv2dOutShape(x.shape, w.shape, p));
  }

  conv2dBackwardInput(dy: BTensor, w: BTensor, xShape: Shape, p: Conv2dParams): BTensor {
    const expect = conv2dOutShape(xShape, w.shape, p);
    if (dy.shape.join() !== expect.join()) {
      throw new Error(`conv2dBackwardInput: dy [${dy.shape.join(', ')}], expected [${expect.join(', ')}]`);
    }
    return this.wrap(conv2dBackwardInput(this.d(dy), this.d(w), w.shape, xShape, p), xShape);
  }

  conv2dBackwardWeight(dy: BTensor, x: BTensor, wShape: Shape, p: Conv2dParams): BTensor {
    const expect = conv2dOutShape(x.shape, wShape, p);
    if (dy.shape.join() !== expect.join()) {
      throw new Error(`conv2dBackwardWeight: dy [${dy.shape.join(', ')}], expected [${expect.join(', ')}]`);
    }
    return this.wrap(conv2dBackwardWeight(this.d(dy), this.d(x), x.shape, wShape, p), wShape);
  }

  channelSum(x: BTensor): BTensor {
    return this.wrap(channelSum(this.d(x), x.shape), [x.shape[1]]);
  }

  // ---- batch normalization ----
  bnStats(x: BTensor): [BTensor, BTensor] {
    const [mean, variance] = bnStats(this.d(x), x.shape);
    const C = x.shape[1];
    return [this.wrap(mean, [C]), this.wrap(variance, [C])];
  }

  bnForward(x: BTensor, mean: BTensor, variance: BTensor, gamma: BTensor, beta: BTensor, eps: number): BTensor {
    const y = bnForward(this.d(x), x.shape, this.d(mean), this.d(variance), this.d(gamma), this.d(beta), eps);
    return this.wrap(y, x.shape);
  }

  bnBackward(dy: BTensor, x: BTensor, mean: BTensor, variance: BTensor, gamma: BTensor, eps: number,
    training: boolean): [BTensor, BTensor, BTensor] {
    const [dx, dgamma, dbeta] = bnBackward(this.d(dy), this.d(x), x.shape, this.d(mean), this.d(variance),
      this.d(gamma), eps, training);
    const C = x.shape[1];
    return [this.wrap(dx, x.shape), this.wrap(dgamma, [C]), this.wrap(dbeta, [C])];
  }

  emaInPlace(running: BTensor, batch: BTensor, momentum: number, batchScale: number): void {
    emaInPlace(this.d(running), this.d(batch), momentum, batchScale);
  }

  // ---- pooling ----
  avgPool2d(x: BTensor, p: Pool2dParams): BTensor {
    return this.wrap(avgPool2dForward(this.d(x), x.shape, p), pool2dOutShape(x.shape, p));
  }

  avgPool2dBackward(dy: BTensor, xShape: Shape, p: Pool2dParams): BTensor {
    return this.wrap(avgPool2dBackward(this.d(dy), xShape, p), xShape);
  }

  maxPool2d(x: BTensor, p: Pool2dParams): BTensor {
    return this.wrap(maxPool2dForward(this.d(x), x.shape, p), pool2dOutShape(x.shape, p));
  }

  maxPool2dBackward(dy: BTensor, x: BTensor, p: Pool2dParams): BTensor {
    return this.wrap(maxPool2dBackward(this.d(dy), this.d(x), x.shape, p), x.shape);
  }

  globalAvgPool(x: BTensor): BTensor {
    return this.wrap(globalAvgPoolForward(this.d(x), x.shape), [x.shape[0], x.shape[1]]);
  }

  globalAvgPoolBackward(dy: BTensor, xShape: Shape): BTensor {
    return this.wrap(globalAvgPoolBackward(this.d(dy), xShape), xShape);
  }

  // ---- loss ----
  softmaxCrossEntropy(logits: BTensor, labels: BTensor): [BTensor, BTensor] {
    const [N, K] = logits.shape;
    const [loss, probs] = softmaxCrossEntropy(this.d(logits), this.d(labels), N, K);
    return [this.wrap(loss, [1]), this.wrap(probs, logits.shape)];
  }

  softmaxCrossEntropyBackward(probs: BTensor, labels: BTensor, gradScale: number): BTensor {
    const [N, K] = probs.shape;
    return this.wrap(softmaxCrossEntropyBackward(this.d(probs), this.d(labels), N, K, gradScale), probs.shape);
  }
  mseLoss(a: BTensor, b: BTensor): [BTensor, BTensor] {
    if (a.shape.join(',') !== b.shape.join(',')) throw new Error(`mseLoss: shapes [${a.shape}] and [${b.shape}] differ`);
    const [loss, diff] = distill.mseLoss(this.d(a), this.d(b));
    return [this.wrap(loss, [1]), this.wrap(diff, a.shape)];
  }
  softKlLoss(s: BTensor, t: BTensor): [BTensor, BTensor] {
    if (s.shape.length !== 2 || s.shape.join(',') !== t.shape.join(',')) {
      throw new Error(`softKlLoss: expected two logits [N, K] of one shape, got [${s.shape}] and [${t.shape}]`);
    }
    const [loss, delta] = distill.softKlLoss(this.d(s), this.d(t), s.shape[0], s.shape[1]);
    return [this.wrap(loss, [1]), this.wrap(delta, s.shape)];
  }
  scaleByScalar(x: BTensor, s: BTensor, c: number): BTensor {
    return this.wrap(distill.scaleByScalar(this.d(x), this.d(s), c), x.shape);
  }

  // ---- optimizers ----
  fakeQuantize(x: BTensor, qparams: BTensor, layout: ChannelLayout, range: QuantRange): BTensor {
    return this.wrap(quant.fakeQuantizePacked(this.d(x), this.d(qparams), layout, range), x.shape);
  }
  fakeQuantizeBackward(dy: BTensor, x: BTensor, qparams: BTensor, layout: ChannelLayout, range: QuantRange): BTensor {
    return this.wrap(quant.fakeQuantizePackedBackward(this.d(dy), this.d(x), this.d(qparams), layout, range), x.shape);
  }
  minMax(x: BTensor, layout: ChannelLayout): [BTensor, BTensor] {
    const [mn, mx] = quant.minMax(this.d(x), layout);
    return [this.wrap(mn, [layout.channels]), this.wrap(mx, [layout.channels])];
  }
  histogram(x: BTensor, bins: number, lo: number, hi: number): BTensor {
    return this.wrap(torchHistc(this.d(x), bins, lo, hi), [bins]);
  }
  updateQParamsInPlace(running: BTensor, batchMin: BTensor, batchMax: BTensor, qparams: BTensor, u: QParamsUpdate): void {
    quant.updateQParams(this.d(running), this.d(batchMin), this.d(batchMax), this.d(qparams), u);
  }
  biasQParams(xQParams: BTensor, wQParams: BTensor): BTensor {
    const w = this.d(wQParams);
    if (this.d(xQParams).length !== 3 || w.length % 3 !== 0) throw new Error(`biasQParams: input qparams [${xQParams.shape}] (per tensor expected), weight qparams [${wQParams.shape}]`);
    return this.wrap(quant.biasQParamsPacked(this.d(xQParams), w), [w.length / 3, 3]);
  }

  requantExact(spec: ExactSpec, v: BTensor, a: BTensor, b: BTensor | null, qa: BTensor, qb: BTensor | null, qo: BTensor): BTensor {
    checkExact(spec, v, a, b);
    const out = requantExactRef(spec, this.d(v), this.d(a), b ? this.d(b) : null, this.d(qa), qb ? this.d(qb) : null, this.d(qo));
    return this.wrap(out, v.shape);
  }
  toInt(x: BTensor, qparams: BTensor, layout: ChannelLayout, part?: IntPart): BTensor {
    if (qparams.size !== 3 * layout.channels) throw new Error(`toInt: qparams [${qparams.shape}] for ${layout.channels} channels`);
    return this.wrap(toIntRef(this.d(x), this.d(qparams), layout.channels, layout.inner, part), x.shape);
  }
  requantConvExact(spec: ConvExactSpec, v: BTensor, acc: BTensor, accLo: BTensor | null, bias: BTensor | null, bqp: BTensor | null, a: BTensor | null, qa: BTensor | null, qx: BTensor, qw: BTensor, qo: BTensor): BTensor {
    const O = spec.channels;
    if ((spec.mode === 'split') !== (accLo !== null) || (accLo && accLo.size !== acc.size)) throw new Error(`requantConvExact ${spec.mode}: low accumulator [${accLo?.shape ?? ''}]`);
    if (acc.size !== v.size || v.size % (O * spec.inner) || qw.size !== 3 * O || (a && a.size !== v.size)) {
      throw new Error(`requantConvExact: output [${v.shape}], accumulator [${acc.shape}], weight qparams [${qw.shape}], add input [${a?.shape ?? ''}]`);
    }
    const o = (t: BTensor | null) => (t ? this.d(t) : null);
    return this.wrap(convRequantExactRef(spec, this.d(v), this.d(acc), o(accLo), o(bias), o(bqp), o(a), o(qa), this.d(qx), this.d(qw), this.d(qo)), v.shape);
  }

  sgdStepInPlace(param: BTensor, grad: BTensor, momentumBuf: BTensor | null, p: SgdParams, firstStep: boolean): void {
    sgdStepInPlace(this.d(param), this.d(grad), momentumBuf ? this.d(momentumBuf) : null, p, firstStep);
  }

  adamStepInPlace(param: BTensor, grad: BTensor, m: BTensor, v: BTensor, p: AdamParams): void {
    adamStepInPlace(this.d(param), this.d(grad), this.d(m), this.d(v), p);
  }
}

export function createCpuBackend(): CpuBackend {
  return new CpuBackend();
}
