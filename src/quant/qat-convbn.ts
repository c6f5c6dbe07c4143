/**
 * PyTorch (1.13) eager-mode QAT on the training engine: the fused observer + fake quant of
 * `get_default_qat_qconfig('fbgemm')` (FusedMovingAvgObsFakeQuantize) and the intrinsic QAT ConvBn2d forward
 * (torch/ao/nn/intrinsic/qat/modules/conv_fused.py `_forward_approximate`), composed of the engine's
 * differentiable functions on a Tape so that gradients flow as in PyTorch (through the BN scale factor into
 * gamma and the weight).
 *
 * ConvBn2d (train mode):
 *   running_std   = sqrt(running_var + eps)            (running statistics BEFORE this step's update)
 *   scale_factor  = gamma / running_std
 *   scaled_weight = weight_fake_quant(weight * scale_factor[:, None, None, None])
 *   conv          = conv2d(x, scaled_weight)           (zero bias)
 *   conv_orig     = conv / scale_factor[None, :, None, None] (+ conv bias)
 *   y             = batch_norm(conv_orig, batch statistics, running stats updated, unbiased var)
 *
 * Fake-quant modules observe first (moving average min/max; the first batch gives the batch min/max), then
 * compute qparams with ATen's `quant_utils::ChooseQuantizationParams` (what `fused_moving_avg_obs_fake_quant`
 * calls, NOT the Python observer's `calculate_qparams`: double arithmetic, and for the symmetric per-channel
 * weights scale = max(|min| / 128, max / 127), not max|w| / 127.5), then fake-quantize with those qparams.
 */
import type { Backend, BTensor, ChannelLayout, Conv2dParams } from '../engine/backend.ts';
import type { Fn, Tape, Var } from '../engine/autograd.ts';
import { clampFn, RELU } from '../engine/fns/activation.ts';
import { channelScaleFn } from '../engine/fns/channel-scale.ts';
import { conv2dFn } from '../engine/fns/conv.ts';
import { fakeQuantFn } from '../engine/fns/fake-quant.ts';
import { batchNormFn } from '../engine/fns/norm.ts';
import { nearbyint } from '../qmath/rounding.ts';

const f32 = Math.fround;
/** quant_utils SMALL_SCALE_THRESHOLD (6.1e-5f, the fp16 minimum normal). */
const SMALL_SCALE_THRESHOLD = f32(6.1e-5);

export interface ChosenQParams {
  /** float32 */
  scale: number;
  zeroPoint: number;
}

/**
 * ATen `quant_utils::ChooseQuantizationParams(min, max, qmin, qmax, preserve_sparsity, false, false)`, with
 * its float / double mix: min and max are float32, `min / symmetric_qmin` is a float32 division, the scale and
 * the zero point are computed in double, the scale is returned as float32.
 */
export function chooseQuantizationParams(
  minIn: number, maxIn: number, qmin: number, qmax: number, preserveSparsity: boolean,
): ChosenQParams {
  let min = f32(minIn), max = f32(maxIn);
  if (!(min <= max)) throw new Error(`ChooseQuantizationParams: min (${min}) must be <= max (${max})`);
  if (min < 0 && max > 0 && preserveSparsity) {
    const half = Math.trunc((qmax - qmin) / 2);
    const symQmin = -(half + 1), symQmax = half;
    const maxScale = Math.max(Math.abs(f32(min / symQmin)), Math.abs(f32(max / symQmax)));
    min = f32(maxScale * symQmin);
    max = f32(maxScale * symQmax);
  }
  min = Math.min(min, 0);
  max = Math.max(max, 0);
  if (!(qmin < qmax)) throw new Error(`ChooseQuantizationParams: qmin ${qmin} must be < qmax ${qmax}`);
  let scale = (max - min) / (qmax - qmin);
  if (f32(scale) === 0 || !Number.isFinite(f32(1 / f32(scale)))) scale = 0.1;
  if (scale < SMALL_SCALE_THRESHOLD) {
    const orgScale = f32(scale);
    scale = SMALL_SCALE_THRESHOLD;
    if (min === 0) max = f32(SMALL_SCALE_THRESHOLD * (qmax - qmin));
    else if (max === 0) min = f32(-SMALL_SCALE_THRESHOLD * (qmax - qmin));
    else {
      const amplifier = f32(SMALL_SCALE_THRESHOLD / orgScale);
      min = f32(min * amplifier);
      max = f32(max * amplifier);
    }
  }
  const zpFromMin = qmin - min / scale;
  const zpFromMax = qmax - max / scale;
  const zpFromMinError = Math.abs(qmin) - Math.abs(min / scale);
  const zpFromMaxError = Math.abs(qmax) - Math.abs(max / scale);
  let initialZp = zpFromMinError < zpFromMaxError ? zpFromMin : zpFromMax;
  if (min < 0 && max > 0 && preserveSparsity) initialZp = (qmin + qmax) / 2;
  let zeroPoint: number;
  if (initialZp < qmin) zeroPoint = qmin;
  else if (initialZp > qmax) zeroPoint = qmax;
  else zeroPoint = nearbyint(initialZp) + 0; // + 0: no -0
  return { scale: f32(scale), zeroPoint };
}

export interface FusedFakeQuantConfig {
  quantMin: number;
  quantMax: number;
  /** per_*_symmetric (preserve_sparsity in ChooseQuantizationParams). */
  symmetric: boolean;
  /** Number of channels (1 per tensor; per channel along dim 0). */
  channels: number;
  /** Moving-average constant (torch default 0.01). */
  averagingConstant?: number;
}

/** `get_default_qat_qconfig('fbgemm')` activations: quint8 with reduce_range -> 0..127, per-tensor affine. */
export const FBGEMM_QAT_ACTIVATION: Omit<FusedFakeQuantConfig, 'channels'> = { quantMin: 0, quantMax: 127, symmetric: false };
/** `default_fused_per_channel_wt_fake_quant`: qint8 -128..127, per-channel symmetric (ch_axis 0). */
export const FBGEMM_QAT_WEIGHT: Omit<FusedFakeQuantConfig, 'channels'> = { quantMin: -128, quantMax: 127, symmetric: true };

/**
 * FusedMovingAvgObsFakeQuantize (observer and fake quant enabled). The running min/max and the qparams are
 * host-side float32 like PyTorch's CPU kernel (its qparams loop runs on the host too); the batch min/max
 * reduction and the fake quant run on the backend.
 */
export class FusedMovingAvgFakeQuant {
  readonly minVal: Float32Array;
  readonly maxVal: Float32Array;
  readonly scale: Float32Array;
  readonly zeroPoint: Int32Array;
  readonly cfg: Required<FusedFakeQuantConfig>;

  constructor(cfg: FusedFakeQuantConfig) {
    this.cfg = { averagingConstant: 0.01, ...cfg };
    const C = cfg.channels;
    this.minVal = new Float32Array(C).fill(Infinity);
    this.maxVal = new Float32Array(C).fill(-Infinity);
    this.scale = new Float32Array(C).fill(1);
    this.zeroPoint = new Int32Array(C);
  }

  /** Per tensor, or per channel along dim 0 of x. */
  layoutOf(shape: readonly number[]): ChannelLayout {
    const n = shape.reduce((a, b) => a * b, 1);
    if (this.cfg.channels === 1) return { outer: 1, channels: 1, inner: n };
    if (shape[0] !== this.cfg.channels) throw new Error(`fake quant: ${this.cfg.channels} channels, tensor [${shape}]`);
    return { outer: 1, channels: shape[0], inner: n / shape[0] };
  }

  /** Observes x (moving average of the batch min/max). */
  async observe(be: Backend, x: BTensor): Promise<void> {
    const [mn, mx] = be.minMax(x, this.layoutOf(x.shape));
    const [bmin, bmax] = [await be.read(mn), await be.read(mx)];
    be.release(mn);
    be.release(mx);
    const c = f32(this.cfg.averagingConstant);
    for (let i = 0; i < this.cfg.channels; i++) {
      const rmin = this.minVal[i], rmax = this.maxVal[i];
      this.minVal[i] = Number.isFinite(rmin) ? f32(rmin + f32(c * f32(bmin[i] - rmin))) : bmin[i];
      this.maxVal[i] = Number.isFinite(rmax) ? f32(rmax + f32(c * f32(bmax[i] - rmax))) : bmax[i];
    }
  }

  /** Qparams from the running range (ChooseQuantizationParams per channel). */
  computeQParams(): void {
    const { quantMin, quantMax, symmetric } = this.cfg;
    for (let i = 0; i < this.cfg.channels; i++) {
      const q = chooseQuantizationParams(this.minVal[i], this.maxVal[i], quantMin, quantMax, symmetric);
      this.scale[i] = q.scale;
      this.zeroPoint[i] = q.zeroPoint;
    }
  }

  /** observe -> qparams -> fake quant (STE backward) of x on the tape; the qparams tensor is owned by the tape. */
  async forward(tape: Tape, x: Var): Promise<Var> {
    const be = tape.be;
    await this.observe(be, x.value);
    this.computeQParams();
    const packed = new Float32Array(3 * this.cfg.channels);
    for (let i = 0; i < this.cfg.channels; i++) packed.set([this.scale[i], f32(1 / this.scale[i]), this.zeroPoint[i]], 3 * i);
    const qparams = tape.own(be.upload(packed, [this.cfg.channels, 3]));
    return tape.apply(fakeQuantFn, [x], {
      qparams, layout: this.layoutOf(x.shape), range: { quantMin: this.cfg.quantMin, quantMax: this.cfg.quantMax },
    });
  }
}

interface ScaleFactorAttrs {
  runningVar: BTensor;
  eps: number;
}

/**
 * scale_factor = gamma / sqrt(running_var + eps), input [gamma [C]], as an eval-mode batch norm of gamma (one
 * row, mean 0, var running_var, unit affine), so that d/dgamma = 1 / sqrt(running_var + eps) comes from
 * bnBackward. running_var is copied at forward time: the BN of the same step updates it in place before the
 * backward runs.
 */
export const bnScaleFactorFn: Fn<ScaleFactorAttrs> = {
  name: 'bn_scale_factor',
  forward(be, [gamma], a, save) {
    const C = gamma.size;
    const rv = be.reshape(a.runningVar, [C]);
    const zeros = be.zeros([C]);
    const ones = be.upload(new Float32Array(C).fill(1), [C]);
    for (const t of [rv, zeros, ones]) save(t);
    const g2 = be.reshape(gamma, [1, C]);
    const y2 = be.bnForward(g2, zeros, rv, ones, zeros, a.eps);
    const y = be.reshape(y2, gamma.shape);
    be.release(g2);
    be.release(y2);
    return y;
  },
  backward(be, gy, { inputs: [gamma], saved: [rv, zeros, ones], attrs: a }) {
    const C = gamma.size;
    const gy2 = be.reshape(gy, [1, C]), g2 = be.reshape(gamma, [1, C]);
    const [dx, dg, db] = be.bnBackward(gy2, g2, zeros, rv, ones, a.eps, false);
    const out = be.reshape(dx, gamma.shape);
    for (const t of [gy2, g2, dx, dg, db]) be.release(t);
    return [out];
  },
};

export interface ConvBnQatParams {
  weight: Var;
  /** Conv bias (ConvBn2d with bias=True) or null. */
  bias: Var | null;
  gamma: Var;
  beta: Var;
  /** Updated in place (momentum, unbiased batch variance). */
  runningMean: BTensor;
  runningVar: BTensor;
  eps: number;
  momentum: number;
  conv: Conv2dParams;
  /** The per-channel weight fake quant (observes the scaled weight). */
  weightFakeQuant: FusedMovingAvgFakeQuant;
  relu: boolean;
}

/** torch.ao.nn.intrinsic.qat ConvBn2d / ConvBnReLU2d forward in train mode (before the output fake quant). */
export async function convBnQat(tape: Tape, x: Var, p: ConvBnQatParams): Promise<Var> {
  const w = p.weight;
  const O = w.shape[0];
  const sf = tape.apply(bnScaleFactorFn, [p.gamma], { runningVar: p.runningVar, eps: p.eps });
  const wLayout: ChannelLayout = { outer: 1, channels: O, inner: w.value.size / O };
  const scaled = tape.apply(channelScaleFn, [w, sf], { layout: wLayout });
  const wq = await p.weightFakeQuant.forward(tape, scaled);
  // conv(x, wq) / sf + b == (conv(x, wq) + b * sf) / sf: the bias goes in pre-scaled (no broadcast add needed)
  const inputs = [x, wq];
  if (p.bias) inputs.push(tape.apply(channelScaleFn, [p.bias, sf], { layout: { outer: 1, channels: O, inner: 1 } }));
  const conv = tape.apply(conv2dFn, inputs, p.conv);
  const [N, , OH, OW] = conv.shape;
  const convOrig = tape.apply(channelScaleFn, [conv, sf], { layout: { outer: N, channels: O, inner: OH * OW }, divide: true });
  const y = tape.apply(batchNormFn, [convOrig, p.gamma, p.beta], {
    eps: p.eps, momentum: p.momentum, runningMean: p.runningMean, runningVar: p.runningVar,
  });
  return p.relu ? tape.apply(clampFn, [y], RELU) : y;
}

/** torch.ao.nn.intrinsic.qat ConvReLU2d / nn.qat.Conv2d: conv2d(x, weight_fake_quant(w), b) [+ relu]. */
export async function convQat(
  tape: Tape, x: Var, weight: Var, bias: Var | null, conv: Conv2dParams, weightFakeQuant: FusedMovingAvgFakeQuant,
  relu: boolean,
): Promise<Var> {
  const wq = await weightFakeQuant.forward(tape, weight);
  const y = tape.apply(conv2dFn, bias ? [x, wq, bias] : [x, wq], conv);
  return relu ? tape.apply(clampFn, [y], RELU) : y;
}
