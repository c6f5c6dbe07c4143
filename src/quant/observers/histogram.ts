/**
 * PyTorch 1.13 `HistogramObserver` (bins 2048, upsample_rate 128, dst_nbins = 2^bits(dtype) = 256 for 8-bit),
 * ported from torch/ao/quantization/observer.py v1.13 with its float32 tensor arithmetic emulated (Math.fround):
 *
 * - `forward`: the first batch (or any batch while min == max) resets the histogram to
 *   `torch.histc(x, bins, min=int(min_val), max=int(max_val))`. **Quirk copied on purpose:** Python `int()`
 *   truncates the range towards zero, so values outside [trunc(min), trunc(max)] are not counted and the counted ones
 *   are binned on the truncated grid, while the observer keeps the untruncated min/max. When trunc(min) == trunc(max)
 *   histc falls back to the tensor's own min/max (and to ±1 around them when those are equal too).
 *   Later batches: `_adjust_min_max` widens the range to a common grid (hist_bin_width = (max - min)/(bins *
 *   upsample_rate), downsample_rate = ceil(range / (bins * hist_bin_width)), the max relaxed by the remainder e),
 *   the new batch is histc'd on the *truncated* combined range (same quirk), and the old histogram is merged in by
 *   `_combine_histograms` (upsample by repeat_interleave, integral in float64, downsample, the shifted integral
 *   stored in a float32 tensor) unless the range did not change, in which case the histograms are simply added.
 * - `torch.histc` binning (1.13 CPU, linear interpolation, no local search):
 *   `pos = int64(f32(f32(f32(x - lo) * bins) / f32(hi - lo)))`, `pos == bins -> bins - 1`, x outside [lo, hi] skipped.
 * - `calculate_qparams`: `_non_linear_param_search` (L2 error search with stepsize 1e-5, comparisons against the
 *   float32 cumulative sum), then `_calculate_qparams(new_min, new_max)`.
 *
 * `_compute_quantization_error` is emulated element by element in float32 but summed in float64 (torch sums the
 * float32 tensor with its own cascade order), so the break decision of the search can in rare near-ties differ;
 * the conformance tolerance for this observer is 1e-3 relative on the scale.
 */
import type { QParams } from '../../qmath/qparams.ts';
import { nearbyint } from '../../qmath/rounding.ts';
import { type ObserverConfig, PerTensorObserverBase } from './base.ts';
import { aminmax, torchHistc } from '../../qmath/histc.ts';

export { torchHistc };

const f32 = Math.fround;

/** torch.div(a, b, rounding_mode='floor') for float32 (Python-style floor division, `div_floor_floating`). */
function divFloorF32(a: number, b: number): number {
  const mod = a % b;
  let div = f32(f32(a - mod) / b);
  if (mod !== 0 && b < 0 !== mod < 0) div = f32(div - 1);
  if (div !== 0) {
    let fl = Math.floor(div);
    if (div - fl > 0.5) fl += 1;
    return fl;
  }
  return 0;
}

/** What {@link HistogramObserver.planBatch} decided for one batch (consumed by commitBatch). */
export interface HistogramBatchPlan {
  /** First batch (or min == max so far): the histogram is replaced. */
  reset: boolean;
  xMin: number;
  xMax: number;
  /** Range to pass to histc (Python int() of the float range: the torch 1.13 quirk). */
  histcMin: number;
  histcMax: number;
  combinedMin: number;
  combinedMax: number;
  downsampleRate: number;
  startIdx: number;
}

export class HistogramObserver extends PerTensorObserverBase {
  readonly bins: number;
  readonly upsampleRate: number;
  readonly dstNbins: number;
  private hist: Float32Array;

  constructor(cfg: ObserverConfig = {}) {
    super(cfg);
    this.bins = cfg.bins ?? 2048;
    this.upsampleRate = cfg.upsampleRate ?? 128;
    const bits = { qint4: 4, quint4: 4, qint8: 8, quint8: 8, qint16: 16, quint16: 16, qint32: 32 }[this.q.dtype];
    this.dstNbins = 2 ** bits;
    this.hist = new Float32Array(this.bins);
  }

  /** The current histogram (a copy). */
  get histogram(): Float32Array {
    return this.hist.slice();
  }

  observe(x: Float32Array, _shape: readonly number[] = [x.length]): void {
    if (x.length === 0) return;
    const [xMin, xMax] = aminmax(x);
    const plan = this.planBatch(xMin, xMax);
    this.commitBatch(plan, torchHistc(x, this.bins, plan.histcMin, plan.histcMax));
  }

  /**
   * First half of `observe` for a batch of min/max (xMin, xMax): the histc range the batch must be binned on
   * (`histcMin`/`histcMax`, already int()-truncated; histc's own lo == hi fallback still applies). Lets the
   * histogram be computed elsewhere (the WebGPU histc) and handed to {@link commitBatch}.
   */
  planBatch(xMin: number, xMax: number): HistogramBatchPlan {
    const minV = this.minV;
    const maxV = this.maxV;
    const uninit = minV === Infinity && maxV === -Infinity;
    if (uninit || minV === maxV) {
      return { reset: true, xMin, xMax, histcMin: Math.trunc(xMin), histcMax: Math.trunc(xMax), combinedMin: xMin, combinedMax: xMax, downsampleRate: 1, startIdx: 0 };
    }
    const adj = this.adjustMinMax(Math.min(xMin, minV), Math.max(xMax, maxV), this.upsampleRate);
    return {
      reset: false, xMin, xMax, histcMin: Math.trunc(adj.combinedMin), histcMax: Math.trunc(adj.combinedMax),
      combinedMin: adj.combinedMin, combinedMax: adj.combinedMax, downsampleRate: adj.downsampleRate, startIdx: adj.startIdx,
    };
  }

  /** Second half of `observe`: `hist` = histc of the batch on [plan.histcMin, plan.histcMax] (`bins` values). */
  commitBatch(plan: HistogramBatchPlan, hist: Float32Array): void {
    if (hist.length !== this.bins) throw new Error(`histogram of ${hist.length} bins, expected ${this.bins}`);
    if (plan.reset) {
      this.minV = plan.xMin;
      this.maxV = plan.xMax;
      this.hist = Float32Array.from(hist);
      return;
    }
    let combined: Float32Array = Float32Array.from(hist);
    if (plan.combinedMin === this.minV && plan.combinedMax === this.maxV) {
      for (let i = 0; i < this.bins; i++) combined[i] = f32(combined[i] + this.hist[i]);
    } else {
      combined = this.combineHistograms(combined, this.hist, this.upsampleRate, plan.downsampleRate, plan.startIdx);
    }
    this.hist = combined;
    this.minV = plan.combinedMin;
    this.maxV = plan.combinedMax;
  }

  /** torch 1.13 `_adjust_min_max`, float32 tensor arithmetic. */
  private adjustMinMax(
    combinedMin: number,
    combinedMax: number,
    upsampleRate: number,
  ): { combinedMin: number; combinedMax: number; downsampleRate: number; startIdx: number } {
    const histBinWidth = f32(f32(this.maxV - this.minV) / (this.bins * upsampleRate));
    const gridWidth = f32(this.bins * histBinWidth);
    const range = f32(combinedMax - combinedMin);
    const downsampleRate = Math.ceil(f32(range / gridWidth));
    const e = f32(f32(downsampleRate * gridWidth) - range);
    return {
      combinedMin,
      combinedMax: f32(combinedMax + e),
      downsampleRate,
      startIdx: nearbyint(f32(f32(this.minV - combinedMin) / histBinWidth)),
    };
  }

  /**
   * torch 1.13 `_combine_histograms(orig_hist, new_hist=self.histogram, ...)`, computed in closed form instead of
   * materialising the Nbins * downsample_rate upsampled grid (the float64 integral is the same piecewise sum).
   */
  private combineHistograms(
    origHist: Float32Array,
    oldHist: Float32Array,
    upsampleRate: number,
    downsampleRate: number,
    startIdx: number,
  ): Float32Array {
    const nb = this.bins;
    const up = upsampleRate;
    const prefix = new Float64Array(nb + 1);
    for (let b = 0; b < nb; b++) prefix[b + 1] = prefix[b] + up * oldHist[b];
    const upLen = nb * up;
    const outLen = nb * downsampleRate;
    const limit = Math.min(upLen, outLen - startIdx); // the slice assignment stops at the end of the grid
    // cumulative sum (float64) of the upsampled histogram placed at startIdx, up to and including grid index m
    const cum = (m: number): number => {
      let J = m - startIdx + 1;
      if (J <= 0) return 0;
      if (J > limit) J = limit;
      const q = Math.floor(J / up);
      const r = J - q * up;
      return prefix[q] + (r > 0 ? r * oldHist[q] : 0);
    };
    const out = new Float32Array(nb);
    let prevShifted = 0; // shifted_integral_histogram is a float32 tensor
    for (let k = 0; k < nb; k++) {
      const integral = cum((k + 1) * downsampleRate - 1);
      const interpolated = (integral - prevShifted) / up;
      out[k] = f32(origHist[k] + f32(interpolated));
      prevShifted = f32(integral);
    }
    return out;
  }

  /** torch 1.13 `_compute_quantization_error(next_start_bin, next_end_bin)`. */
  computeQuantizationError(nextStartBin: number, nextEndBin: number): number {
    const bins = this.bins;
    const binWidth = (this.maxV - this.minV) / bins; // .item() values: double arithmetic
    const dstBinWidth = (binWidth * (nextEndBin - nextStartBin + 1)) / this.dstNbins;
    if (dstBinWidth === 0) return 0;
    const bw = f32(binWidth);
    const dbw = f32(dstBinWidth);
    const half = f32(dstBinWidth / 2);
    const dstMax = this.dstNbins - 1;
    // _get_norm(-half, half, density) = density * f32(f32(h^3) - f32((-h)^3)) / 3
    const h3 = f32(f32(half * half) * half);
    const mh3 = f32(f32(-half * -half) * -half);
    const fullNorm = f32(f32(h3 - mh3) / 3);
    let sum = 0;
    for (let i = 0; i < bins; i++) {
      const count = this.hist[i];
      if (count === 0) continue; // density 0: every term is 0
      const srcBegin = f32((i - nextStartBin) * bw);
      const srcEnd = f32(srcBegin + bw);
      const dob = Math.min(dstMax, Math.max(0, divFloorF32(srcBegin, dbw)));
      const dobCenter = f32(f32(dob + 0.5) * dbw);
      const doe = Math.min(dstMax, Math.max(0, divFloorF32(srcEnd, dbw)));
      const density = f32(count / bw);
      // term 1: delta_begin = src_begin - dst_bin_of_begin_center, delta_end = dst_bin_width / 2
      const db = f32(srcBegin - dobCenter);
      const n1 = f32(f32(h3 - f32(f32(db * db) * db)) / 3);
      let norm = f32(density * n1);
      // term 2: (dst_bin_of_end - dst_bin_of_begin - 1) * _get_norm(-half, half, density)
      norm = f32(norm + f32(f32(doe - dob - 1) * f32(density * fullNorm)));
      // term 3: delta_begin = -dst_bin_width / 2, delta_end = src_end - dst_bin_of_end_center
      const doeCenter = f32(f32(doe * dbw) + half);
      const de = f32(srcEnd - doeCenter);
      const n3 = f32(f32(f32(f32(de * de) * de) - mh3) / 3);
      norm = f32(norm + f32(density * n3));
      sum += norm;
    }
    return f32(sum);
  }

  /** torch 1.13 `_non_linear_param_search`: the [min, max] minimising the approximate L2 quantization error. */
  nonLinearParamSearch(): [number, number] {
    const bins = this.bins;
    const hist = this.hist;
    const binWidth = f32(f32(this.maxV - this.minV) / bins);
    const cSum = new Float32Array(bins);
    let acc = 0;
    for (let i = 0; i < bins; i++) {
      acc += hist[i];
      cSum[i] = acc; // torch.cumsum accumulates in double on CPU, stores float32
    }
    const total = f32(acc);
    const stepsize = 1e-5;
    let alpha = 0;
    let beta = 1;
    let startBin = 0;
    let endBin = bins - 1;
    let normMin = Infinity;
    while (alpha < beta) {
      const nextAlpha = alpha + stepsize;
      const nextBeta = beta - stepsize;
      const ta = f32(nextAlpha * total);
      const tb = f32(nextBeta * total);
      let l = startBin;
      let r = endBin;
      while (l < endBin && cSum[l] < ta) l++;
      while (r > startBin && cSum[r] > tb) r--;
      let nextStart = startBin;
      let nextEnd = endBin;
      if (l - startBin > endBin - r) {
        nextStart = l;
        alpha = nextAlpha;
      } else {
        nextEnd = r;
        beta = nextBeta;
      }
      if (nextStart === startBin && nextEnd === endBin) continue;
      const norm = this.computeQuantizationError(nextStart, nextEnd);
      if (norm > normMin) break;
      normMin = norm;
      startBin = nextStart;
      endBin = nextEnd;
    }
    return [f32(this.minV + f32(binWidth * startBin)), f32(this.minV + f32(binWidth * (endBin + 1)))];
  }

  calculateQParams(): QParams {
    if (this.minV === Infinity && this.maxV === -Infinity) {
      return { scale: Float32Array.of(1), zeroPoint: Int32Array.of(0) };
    }
    const [lo, hi] = this.nonLinearParamSearch();
    return this.qparamsFor(lo, hi);
  }
}
