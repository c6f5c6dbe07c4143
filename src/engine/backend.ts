/**
 * The contract every compute backend fulfils: the WebGPU engine (src/engine/webgpu) and the CPU
 * reference (src/engine/reference). Autograd, models, optimizers and training are written once
 * against this interface, so the two backends are interchangeable and testable against each other.
 *
 * Conventions: float32 everywhere; activations NCHW; conv weights OIHW with I = C / groups;
 * linear weights [out, in]; class labels are float32 tensors holding integer class indices.
 * Every op returns a NEW tensor unless its name says "InPlace". Callers own what they get and must
 * `release` it (autograd does this through scopes, see src/engine/scope.ts).
 */
import type { ConvExactSpec, ExactSpec, IntPart } from '../qmath/requant-exact.ts';
import { poolOutSize } from '../qmath/pool-window.ts';
import type { UnaryAct } from './unary-act.ts';

export type Shape = readonly number[];

/** A backend-owned tensor handle. Only the backend that made it can read its storage. */
export interface BTensor {
  readonly shape: Shape;
  /** Number of elements (product of shape). */
  readonly size: number;
}

export interface Conv2dParams {
  strideH: number; strideW: number;
  padH: number; padW: number;
  dilationH: number; dilationW: number;
  groups: number;
}

export interface Pool2dParams {
  kernelH: number; kernelW: number;
  strideH: number; strideW: number;
  padH: number; padW: number;
  /** ceil_mode: the output size rounds up (src/qmath/pool-window.ts); absent = false. */
  ceilMode?: boolean;
  /** Average pooling: padded positions count in the divisor (PyTorch's default); absent = true. */
  countIncludePad?: boolean;
}

/**
 * One axis of a separable 2-D resampling (Resize and its backward, src/engine/fns/resample.ts): output position j
 * reads input positions index[k] with weights weight[k] for k in [start[j], start[j + 1]) (CSR form; start has
 * out + 1 entries).
 */
export interface ResampleAxis {
  inSize: number;
  start: Int32Array;
  index: Int32Array;
  weight: Float32Array;
}

export interface SgdParams {
  lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean;
}

export interface AdamParams {
  lr: number; beta1: number; beta2: number; eps: number; weightDecay: number;
  /** true: AdamW (decoupled decay, param -= lr*wd*param); false: L2 added to the gradient. */
  decoupled: boolean;
  /** 1-based step count, for bias correction. */
  step: number;
}

/** A row-major tensor seen as [outer, channels, inner]; per tensor: {outer: 1, channels: 1, inner: n}. */
export interface ChannelLayout { outer: number; channels: number; inner: number }

export interface QuantRange {
  quantMin: number;
  quantMax: number;
  /** 'half_even' (torch.round, the default) or 'bpu_round' = floor(x + 0.5). */
  rounding?: 'half_even' | 'bpu_round';
}

/** How updateQParamsInPlace tracks ranges and derives symmetric scales (see shaders/qparams.wgsl). */
export interface QParamsUpdate {
  /** Moving-average constant c: min += c * (batch_min - min); 0 keeps the range frozen; 1 = this batch. */
  averagingConstant: number;
  /** First observation: take the batch range as is. */
  first: boolean;
  quantMin: number;
  quantMax: number;
  eps: number;
  /** bernoulli march: power-of-two scales. */
  powerOfTwo: boolean;
}

export interface Backend {
  readonly kind: 'webgpu' | 'cpu';
  /** Human-readable adapter description shown by the UI and the CLI, e.g. "SwiftShader (vulkan)". */
  readonly adapter: string;

  upload(data: Float32Array, shape: Shape): BTensor;
  zeros(shape: Shape): BTensor;
  /** Copies the tensor's values back to the host (waits for pending GPU work). */
  read(t: BTensor): Promise<Float32Array>;
  release(t: BTensor): void;
  /** Storage objects currently allocated and not released (the leak check). */
  liveTensors(): number;
  /** Submits queued GPU work (no-op on the CPU). */
  flush(): void;
  /** Waits until all submitted work is done. */
  sync(): Promise<void>;
  dispose(): void;

  // ---- layout ----
  /** Same values, new shape (size must match). A copy: the result is independent of `x`. */
  reshape(x: BTensor, shape: Shape): BTensor;
  /** Concatenates [N, Ci, H, W] tensors along channels. */
  concatChannels(xs: readonly BTensor[]): BTensor;
  /** x[:, start:start+count] of an [N, C, H, W] tensor (the backward of concatChannels). */
  sliceChannels(x: BTensor, start: number, count: number): BTensor;
  /** y[:, j] = x[:, index[j]] of an [N, C, ...] tensor, 0 where index[j] < 0 (channel shuffle, slice backward). */
  gatherChannels(x: BTensor, index: readonly number[]): BTensor;

  /**
   * y[n, c, p, q] = sum over k in rows(p), l in cols(q) of rows.weight[k] · cols.weight[l] · x[n, c, rows.index[k],
   * cols.index[l]]: Resize (nearest / linear) and, with the transposed tables, its backward. x [N, C, H, W] with
   * H = rows.inSize, W = cols.inSize; y [N, C, rows out, cols out].
   */
  resample2d(x: BTensor, rows: ResampleAxis, cols: ResampleAxis): BTensor;

  // ---- elementwise ----
  add(a: BTensor, b: BTensor): BTensor;
  /** x + b[c] per channel of an [N, C, ...] tensor (ConvTranspose's bias; its b-gradient is channelSum). */
  addChannelBias(x: BTensor, b: BTensor): BTensor;
  /** a * s (scalar). */
  scale(a: BTensor, s: number): BTensor;
  /** x * a + b with scalars a and b (Mul / Div by a constant, Sub of a constant; its x-gradient is scale(dy, a)). */
  affine(x: BTensor, a: number, b: number): BTensor;
  /** min(max(x, lo), hi): relu is (0, Infinity), relu6 is (0, 6). */
  clamp(x: BTensor, lo: number, hi: number): BTensor;
  /** dy where lo < x < hi, else 0 (the gradient of clamp; at the boundaries 0, like PyTorch's relu). */
  clampBackward(dy: BTensor, x: BTensor, lo: number, hi: number): BTensor;
  /** y = f(x) for a unary activation (sigmoid, tanh, hardsigmoid, hardswish, silu, leakyrelu: src/engine/unary-act.ts). */
  unaryAct(x: BTensor, a: UnaryAct): BTensor;
  /** dx = dy · f'(x) (recomputed from x). */
  unaryActBackward(dy: BTensor, x: BTensor, a: UnaryAct): BTensor;
  /**
   * Per-channel scaling of x seen as [outer, C, inner] (`layout`): y = x * s[c], or x / s[c] with `divide`
   * (s has C elements; the result has x's shape). It is its own x-gradient (dx = channelScale(dy, s, layout,
   * divide)); with layout {outer: 1, channels: n, inner: 1} it is the elementwise product of two n-element
   * tensors, which channelSum reduces to the s-gradient (src/engine/fns/channel-scale.ts).
   */
  channelScale(x: BTensor, s: BTensor, layout: ChannelLayout, divide?: boolean): BTensor;

  // ---- tokens (transformer blocks: src/engine/reference/tokens.ts) ----
  /** Axes permuted (rank ≤ 6): y.shape[k] = x.shape[perm[k]]; its backward is the inverse permutation. */
  transpose(x: BTensor, perm: readonly number[]): BTensor;
  /**
   * Batched matrix product over equal leading dimensions (no broadcasting): a [..., M, K] (transA: [..., K, M]),
   * b [..., K, N] (transB: [..., N, K]) -> [..., M, N].
   */
  matmul(a: BTensor, b: BTensor, transA: boolean, transB: boolean): BTensor;
  /** Softmax over the last axis. */
  softmax(x: BTensor): BTensor;
  /** dx = y · (dy - sum(dy · y)) over the last axis, from the softmax output y. */
  softmaxBackward(dy: BTensor, y: BTensor): BTensor;
  /** Layer norm over the last axis (gamma, beta [D]): [y, stats [rows, 2] = (mean, 1 / sqrt(var + eps))]. */
  layerNorm(x: BTensor, gamma: BTensor, beta: BTensor, eps: number): [BTensor, BTensor];
  /** [dx, dgamma, dbeta] from the statistics of layerNorm. */
  layerNormBackward(dy: BTensor, x: BTensor, stats: BTensor, gamma: BTensor): [BTensor, BTensor, BTensor];

  // ---- dense ----
  /** y[n,o] = sum_k x[n,k] w[o,k] + b[o]; x [N,K], w [O,K], b [O] or null. */
  linear(x: BTensor, w: BTensor, b: BTensor | null): BTensor;
  /** dx[n,k] = sum_o dy[n,o] w[o,k]. */
  linearBackwardInput(dy: BTensor, w: BTensor): BTensor;
  /** dw[o,k] = sum_n dy[n,o] x[n,k]. */
  linearBackwardWeight(dy: BTensor, x: BTensor): BTensor;
  /** db[o] = sum_n dy[n,o] for dy [N,O]. */
  sumRows(dy: BTensor): BTensor;

  // ---- convolution ----
  conv2d(x: BTensor, w: BTensor, b: BTensor | null, p: Conv2dParams): BTensor;
  conv2dBackwardInput(dy: BTensor, w: BTensor, xShape: Shape, p: Conv2dParams): BTensor;
  conv2dBackwardWeight(dy: BTensor, x: BTensor, wShape: Shape, p: Conv2dParams): BTensor;
  /** s[c] = sum over n, h, w of x[n,c,h,w] (conv bias gradient, BN beta gradient). */
  channelSum(x: BTensor): BTensor;

  // ---- batch normalization (per channel of NCHW; also used for [N, C] with H = W = 1) ----
  /** Batch mean and biased variance per channel: returns [mean [C], var [C]]. */
  bnStats(x: BTensor): [BTensor, BTensor];
  /** y = (x - mean) / sqrt(var + eps) * gamma + beta. */
  bnForward(x: BTensor, mean: BTensor, variance: BTensor, gamma: BTensor, beta: BTensor, eps: number): BTensor;
  /**
   * Gradients of bnForward. training = true: mean/var are the batch statistics of x (their
   * gradient flows into dx); false: they are constants (running statistics).
   * Returns [dx, dgamma, dbeta].
   */
  bnBackward(dy: BTensor, x: BTensor, mean: BTensor, variance: BTensor, gamma: BTensor, eps: number,
    training: boolean): [BTensor, BTensor, BTensor];
  /** running = (1 - m) * running + m * (batch * batchScale), in place (running statistics update). */
  emaInPlace(running: BTensor, batch: BTensor, momentum: number, batchScale: number): void;

  // ---- pooling ----
  /** Average pooling, count_include_pad = true (PyTorch's default). */
  avgPool2d(x: BTensor, p: Pool2dParams): BTensor;
  avgPool2dBackward(dy: BTensor, xShape: Shape, p: Pool2dParams): BTensor;
  /** Max pooling; padding counts as -Infinity. */
  maxPool2d(x: BTensor, p: Pool2dParams): BTensor;
  /** Routes dy to the first maximal element of each window (recomputed from x). */
  maxPool2dBackward(dy: BTensor, x: BTensor, p: Pool2dParams): BTensor;
  /** [N, C, H, W] -> [N, C]. */
  globalAvgPool(x: BTensor): BTensor;
  globalAvgPoolBackward(dy: BTensor, xShape: Shape): BTensor;

  // ---- loss ----
  /**
   * Mean softmax cross-entropy of logits [N, K] against labels [N] (class indices as floats).
   * Returns [loss [1], probs [N, K]] (probs are kept for the backward).
   */
  softmaxCrossEntropy(logits: BTensor, labels: BTensor): [BTensor, BTensor];
  /** dlogits = (probs - onehot(labels)) * gradScale; gradScale is dLoss / N for the mean loss. */
  softmaxCrossEntropyBackward(probs: BTensor, labels: BTensor, gradScale: number): BTensor;
  /** Distillation: [mean((a - b)^2) [1], a - b] for two tensors of one shape. */
  mseLoss(a: BTensor, b: BTensor): [BTensor, BTensor];
  /** Distillation on logits [N, K]: [mean_n KL(softmax(teacher) || softmax(student)) [1], softmax(s) - softmax(t)]. */
  softKlLoss(student: BTensor, teacher: BTensor): [BTensor, BTensor];
  /** x * s[0] * c, s a tensor [1] (the distillation losses' backward: saved gradient times incoming gradient). */
  scaleByScalar(x: BTensor, s: BTensor, c: number): BTensor;

  // ---- quantization ----
  /**
   * Fake quantization with qparams [C, 3] = [scale, f32(1/scale), zero point] per channel of `layout`:
   * q = zp + round(f32(x * inv)); out = (clamp(q, qmin, qmax) - zp) * scale.
   */
  fakeQuantize(x: BTensor, qparams: BTensor, layout: ChannelLayout, range: QuantRange): BTensor;
  /** Straight-through estimator: dy where qmin <= q <= qmax, else 0 (q recomputed from x). */
  fakeQuantizeBackward(dy: BTensor, x: BTensor, qparams: BTensor, layout: ChannelLayout, range: QuantRange): BTensor;
  /** Per-channel [min [C], max [C]] of `layout` (per tensor: C = 1). */
  minMax(x: BTensor, layout: ChannelLayout): [BTensor, BTensor];
  /** torch.histc(x, bins, lo, hi) as float counts [bins]: values outside [lo, hi] are skipped, hi goes in the last bin. */
  histogram(x: BTensor, bins: number, lo: number, hi: number): BTensor;
  /** Updates the running range [2, C] (mins then maxs) and writes symmetric qparams [C, 3], in place. */
  updateQParamsInPlace(running: BTensor, batchMin: BTensor, batchMax: BTensor, qparams: BTensor, u: QParamsUpdate): void;
  /**
   * The qparams [C, 3] of a conv / linear bias on its int32 grid (src/qmath/bias.ts): scale = f32(x_scale *
   * w_scale[c]) from the input's per-tensor qparams [1, 3] and the weight's per-channel qparams [C, 3].
   */
  biasQParams(xQParams: BTensor, wQParams: BTensor): BTensor;
  /**
   * The integer forward of a requantizing op on fake-quantized inputs (src/qmath/requant-exact.ts): a (and b) are
   * fake-quantized with the per-tensor qparams qa (qb) [1, 3], the output's are qo; the result is f32(q · s_out) with
   * q the simulator's integer (concat's rescale of a; a + b, a - b; a · b with b per element or per (sample,
   * channel)), or the fake quant of `v` (the float op's output) where convert would have no integer parameters.
   */
  requantExact(spec: ExactSpec, v: BTensor, a: BTensor, b: BTensor | null, qa: BTensor, qb: BTensor | null, qo: BTensor): BTensor;
  /**
   * round(f32(x · inv[c])) with qparams [C, 3] of `layout`: the integers of a fake-quantized tensor, as floats; part
   * 'hi' / 'lo': floor(q / 16) / q - 16 · floor(q / 16) (src/qmath/requant-exact.ts toIntRef).
   */
  toInt(x: BTensor, qparams: BTensor, layout: ChannelLayout, part?: IntPart): BTensor;
  /**
   * A conv's requantization in the simulator's integers (src/qmath/requant-exact.ts convRequantExactRef): `acc` the
   * float32 conv of the input and weight integers (mode 'split': of the input's high parts, accLo of its low parts), the raw bias with its int32 grid's qparams [O, 3], the fused add
   * input with its site's qparams, the input's / weight's / output's qparams; f32(q · s_out) out.
   */
  requantConvExact(spec: ConvExactSpec, v: BTensor, acc: BTensor, accLo: BTensor | null, bias: BTensor | null, bqp: BTensor | null, a: BTensor | null, qa: BTensor | null, qx: BTensor, qw: BTensor, qo: BTensor): BTensor;

  // ---- optimizers (update param and state in place) ----
  /** PyTorch SGD: g = grad + wd*param; buf = momentum*buf + (1-dampening)*g (buf = g on the first
   *  step, signalled by firstStep); g = nesterov ? g + momentum*buf : buf; param -= lr*g.
   *  momentumBuf is null when momentum == 0. */
  sgdStepInPlace(param: BTensor, grad: BTensor, momentumBuf: BTensor | null, p: SgdParams, firstStep: boolean): void;
  /** PyTorch Adam / AdamW with bias correction. */
  adamStepInPlace(param: BTensor, grad: BTensor, m: BTensor, v: BTensor, p: AdamParams): void;
}

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Output spatial size of a convolution or pooling window (PyTorch's floor formula). */
export function outSize(inSize: number, kernel: number, stride: number, pad: number, dilation = 1): number {
  return Math.floor((inSize + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;
}

export function conv2dOutShape(xShape: Shape, wShape: Shape, p: Conv2dParams): Shape {
  const [n, , h, w] = xShape;
  const [o, , kh, kw] = wShape;
  return [n, o, outSize(h, kh, p.strideH, p.padH, p.dilationH), outSize(w, kw, p.strideW, p.padW, p.dilationW)];
}

export function pool2dOutShape(xShape: Shape, p: Pool2dParams): Shape {
  const [n, c, h, w] = xShape;
  return [n, c, poolOutSize(h, p.kernelH, p.strideH, p.padH, p.ceilMode), poolOutSize(w, p.kernelW, p.strideW, p.padW, p.ceilMode)];
}

export function convParams(o: Partial<Conv2dParams> & { stride?: number; padding?: number; dilation?: number }): Conv2dParams {
  const s = o.stride ?? 1, pd = o.padding ?? 0, d = o.dilation ?? 1;
  return {
    strideH: o.strideH ?? s, strideW: o.strideW ?? s,
    padH: o.padH ?? pd, padW: o.padW ?? pd,
    dilationH: o.dilationH ?? d, dilationW: o.dilationW ?? d,
    groups: o.groups ?? 1,
  };
}

export function poolParams(kernel: number, stride = kernel, padding = 0): Pool2dParams {
  return { kernelH: kernel, kernelW: kernel, strideH: stride, strideW: stride, padH: padding, padW: padding };
}
