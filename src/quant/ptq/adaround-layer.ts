/**
 * AdaRound on one layer: learn, per weight, rounding down or up (h(V) in [0, 1], V one variable per weight) so
 * that the layer's output on the cached calibration batches (inputs from the quantized preceding layers) comes
 * close to the float model's output of the same layer:
 *   loss(V) = || layer(x_q; s * clamp(floor(w / s) + h(V), lo, hi)) - y_float ||^2 / (N*H*W)   (summed over channels,
 *             averaged over the rest, as BRECQ / AIMET)  +  weight * sum(1 - |2 h(V) - 1|^beta)
 * The layer's forward and backward (conv / linear, the weight gradient) run on the engine's backend; the rounding
 * variables, their Adam state and the chain rule through h(V) (one number per weight) on the host.
 */
import { Tape, Var } from '../../engine/autograd.ts';
import type { Backend, BTensor } from '../../engine/backend.ts';
import type { GraphNode } from '../../graph/ir.ts';
import type { AdaRoundConfig } from './adaround-config.ts';
import { layerForward } from './layer-forward.ts';
import {
  annealedBeta, inverseRectifiedSigmoid, rectifiedSigmoid, rectifiedSigmoidGrad, roundingRegularizer,
} from './rectified-sigmoid.ts';
import { gridValue, type WeightGrid } from './weight-grid.ts';

export interface LayerBatch {
  /** The layer's input in the quantized model (fake-quantized), and its add input for a fused Conv+Add. */
  x: BTensor;
  add: BTensor | null;
  /** -(the float model's output of the layer). */
  negTarget: BTensor;
}

export interface LayerProblem {
  be: Backend;
  node: GraphNode;
  weightShape: readonly number[];
  bias: BTensor | null;
  grid: WeightGrid;
  batches: LayerBatch[];
}

export interface LossAndGrad {
  /** Reconstruction term (only when asked for). */
  recon: number | null;
  /** Regularizer term (weight * sum), 0 without beta. */
  reg: number;
  /** d(recon + reg) / dV. */
  grad: Float64Array;
}

/** The soft weights s * clamp(floor + h(V), lo, hi) (edge elements: their nearest value). */
export function softWeights(g: WeightGrid, v: Float64Array): Float32Array {
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const c = Math.floor(i / g.inner);
    if (g.frozen[i]) out[i] = g.nearest[i] * g.scales[c];
    else out[i] = Math.min(g.hi[c], Math.max(g.lo[c], g.floor[i] + rectifiedSigmoid(v[i]))) * g.scales[c];
  }
  return out;
}

/** V at which the soft weight equals the float weight's position between floor and floor + 1. */
export function initialV(g: WeightGrid, w: Float32Array): Float64Array {
  const v = new Float64Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const rest = w[i] / g.scales[Math.floor(i / g.inner)] - g.floor[i];
    v[i] = inverseRectifiedSigmoid(rest);
  }
  return v;
}

/** The hard rounding of V: up where h(V) >= 0.5. */
export function hardRounding(g: WeightGrid, v: Float64Array): Int32Array {
  const q = new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) q[i] = gridValue(g, i, rectifiedSigmoid(v[i]) >= 0.5 ? 1 : 0);
  return q;
}

/** Sum of squares of a tensor on the backend (a [1, M] x [1, M]^T product), read back. */
async function sumSquares(be: Backend, d: BTensor): Promise<number> {
  const row = be.reshape(d, [1, d.size]);
  const s = be.linear(row, row, null);
  const v = (await be.read(s))[0];
  be.release(row);
  be.release(s);
  return v;
}

/** Reconstruction error of batch b with the given float weights; optionally the gradient in those weights. */
export async function reconstruction(p: LayerProblem, weights: Float32Array, b: number, wantGrad: boolean): Promise<{ recon: number; dW: Float32Array | null }> {
  const { be } = p;
  const batch = p.batches[b];
  const tape = new Tape(be, wantGrad, false);
  const wT = be.upload(weights, p.weightShape);
  try {
    const wVar = new Var(wT, wantGrad);
    const y = layerForward(tape, p.node, new Var(batch.x), wVar, p.bias ? new Var(p.bias) : null, batch.add ? new Var(batch.add) : null);
    const diff = tape.own(be.add(y.value, batch.negTarget));
    const channels = y.shape[1];
    const perChannel = y.value.size / channels;
    const recon = (await sumSquares(be, diff)) / perChannel;
    let dW: Float32Array | null = null;
    if (wantGrad) {
      const seed = tape.own(be.scale(diff, 2 / perChannel));
      tape.backward(y, seed);
      dW = await be.read(wVar.grad!);
      be.release(wVar.grad!);
    }
    return { recon, dW };
  } finally {
    tape.dispose();
    be.release(wT);
  }
}

/** The loss and its gradient in V on batch b (beta null: warm-up, no regularizer). */
export async function lossAndGrad(p: LayerProblem, v: Float64Array, b: number, beta: number | null, weight: number): Promise<LossAndGrad> {
  const g = p.grid;
  const { recon, dW } = await reconstruction(p, softWeights(g, v), b, true);
  const grad = new Float64Array(v.length);
  let reg = 0;
  for (let i = 0; i < v.length; i++) {
    if (g.frozen[i]) continue;
    const c = Math.floor(i / g.inner);
    const h = rectifiedSigmoid(v[i]);
    const soft = g.floor[i] + h;
    let dh = soft >= g.lo[c] && soft <= g.hi[c] ? dW![i] * g.scales[c] : 0;
    if (beta !== null) {
      const r = roundingRegularizer(h, beta);
      reg += weight * r.value;
      dh += weight * r.dh;
    }
    grad[i] = dh * rectifiedSigmoidGrad(v[i]);
  }
  return { recon, reg, grad };
}

export interface LayerProgress { step: number; steps: number; recon: number | null; reg: number }

export interface LayerResult {
  q: Int32Array;
  /** Mean reconstruction error over the cached batches: round-to-nearest and AdaRound's hard rounding. */
  nearestError: number;
  adaroundError: number;
  /** Weights whose integer differs from round-to-nearest. */
  changed: number;
  /** Final share of rounding variables still undecided (h in (0.01, 0.99)). */
  soft: number;
}

export async function meanReconstruction(p: LayerProblem, q: Int32Array): Promise<number> {
  const w = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) w[i] = q[i] * p.grid.scales[Math.floor(i / p.grid.inner)];
  let s = 0;
  for (let b = 0; b < p.batches.length; b++) s += (await reconstruction(p, w, b, false)).recon;
  return s / p.batches.length;
}

export async function optimizeLayer(p: LayerProblem, floatWeights: Float32Array, cfg: AdaRoundConfig,
  o: { signal?: AbortSignal; onStep?: (s: LayerProgress) => void } = {}): Promise<LayerResult> {
  const g = p.grid;
  const v = initialV(g, floatWeights);
  const m = new Float64Array(v.length), s2 = new Float64Array(v.length);
  const b1 = 0.9, b2 = 0.999, eps = 1e-8;
  for (let step = 0; step < cfg.numSteps; step++) {
    // Let messages (cancel) through even where the backend never awaits anything real (the CPU reference).
    if (step % 16 === 15) await new Promise((r) => setTimeout(r, 0));
    if (o.signal?.aborted) throw new DOMException('AdaRound cancelled', 'AbortError');
    const beta = annealedBeta(step, cfg.numSteps, cfg.warmUp, cfg.bRange);
    const r = await lossAndGrad(p, v, step % p.batches.length, beta, cfg.weight);
    const c1 = 1 - b1 ** (step + 1), c2 = 1 - b2 ** (step + 1);
    for (let i = 0; i < v.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * r.grad[i];
      s2[i] = b2 * s2[i] + (1 - b2) * r.grad[i] * r.grad[i];
      v[i] -= (cfg.lr * (m[i] / c1)) / (Math.sqrt(s2[i] / c2) + eps);
    }
    o.onStep?.({ step: step + 1, steps: cfg.numSteps, recon: r.recon, reg: r.reg });
  }
  const q = hardRounding(g, v);
  let changed = 0, soft = 0;
  for (let i = 0; i < q.length; i++) {
    if (q[i] !== g.nearest[i]) changed++;
    const h = rectifiedSigmoid(v[i]);
    if (!g.frozen[i] && h > 0.01 && h < 0.99) soft++;
  }
  return { q, nearestError: await meanReconstruction(p, g.nearest), adaroundError: await meanReconstruction(p, q), changed, soft: soft / q.length };
}
