/**
 * A prepared model at run time: one FakeQuantize per activation and weight site, holding its qparams
 * ([C, 3] = [scale, inv, zero point]) and running range ([2, C]) on the backend, and the model-wide
 * FakeQuantState of the Horizon tool, set with one call:
 *   CALIBRATION  eval mode, observers on, fake quant off (min-max and histogram observers take device-side
 *                reductions; MSE, percentile, KL and mix read the activations back)
 *   QAT          train mode, fake quant on, ranges updated on the device every step
 *                (eval passes inside QAT behave as VALIDATION)
 *   VALIDATION   eval mode, fake quant on, scales fixed
 * Outside CALIBRATION, conv / linear biases go on the int32 grid of the integer model (src/qmath/bias.ts: scale
 * x_scale * w_scale[c], from the input's site and the weight's current scales, straight-through gradient), so that
 * the fake-quant model adds the bias the simulator adds. In evaluation passes (VALIDATION, eval passes inside QAT), the
 * ops that requantize already-quantized inputs (concat, add, sub, mul, global average pooling, int8 conv: the plan's
 * `exact`) compute their output as the simulator does, in integers from the input sites' and the output site's
 * current scales (src/qmath/requant-exact.ts, docs/fixed-point.md §2e), with the output fake quant's
 * straight-through gradient; QAT training steps keep the float op and its fake quant.
 */
import type { Backend, BTensor, ChannelLayout, QuantRange } from '../engine/backend.ts';
import type { Tape, Var } from '../engine/autograd.ts';
import { fakeQuantFn } from '../engine/fns/fake-quant.ts';
import { BIAS_RANGE } from '../qmath/bias.ts';
import type { GraphNode } from '../graph/ir.ts';
import type { Hooks } from '../nn/executor.ts';
import type { HostParams, ParamStore } from '../nn/params.ts';
import { marchUsesPowerOfTwoScale } from '../qmath/march.ts';
import { createObserver, HistogramObserver, type Observer } from './observers/index.ts';
import { EPS_F32 } from '../qmath/qparams.ts';
import type { ActSite, BiasSite, ExactSite, QuantPlan, WeightSite } from './prepare.ts';
import { convExactFn, requantExactFn } from '../engine/fns/requant-exact.ts';
import { convExactMode, type ConvExactSpec, type ExactSpec } from '../qmath/requant-exact.ts';
import type { TensorQuantSpec } from './qconfig.ts';

export type FakeQuantState = 'CALIBRATION' | 'QAT' | 'VALIDATION';

/** Observers whose statistics are exactly the running min and max: fed with device-side reductions. */
const MINMAX_OBSERVERS: ReadonlySet<string> = new Set(['minmax', 'moving_average_minmax']);

interface Site {
  id: string;
  kind: 'act' | 'weight';
  channels: number;
  spec: TensorQuantSpec;
  range: QuantRange;
  qparams: BTensor;
  running: BTensor;
  initialized: boolean;
  observer: Observer | null;
}

const perTensor = (n: number): ChannelLayout => ({ outer: 1, channels: 1, inner: n });
const perOutputChannel = (shape: readonly number[]): ChannelLayout =>
  ({ outer: 1, channels: shape[0], inner: shape.slice(1).reduce((a, b) => a * b, 1) });

export class NotCalibratedError extends Error {}

interface DenseParts {
  weight?: { value: Var; qparams: BTensor };
  bias?: { b: BTensor; qparams: BTensor };
}

export class QuantizedModel {
  state: FakeQuantState = 'VALIDATION';
  readonly acts = new Map<string, Site>();
  readonly weights = new Map<string, Site>();
  /** Biases on the int32 grid, by node id (prepare's BiasSite). */
  readonly biases: ReadonlyMap<string, BiasSite>;
  /** Ops with the exact integer forward, by node id (prepare's ExactSite). */
  readonly exact: ReadonlyMap<string, ExactSite>;
  /**
   * The exact integer forward of the plan's `exact` ops (default on); off, they are the float op and its output's fake
   * quant (what the previous versions computed; for comparisons).
   */
  exactEnabled = true;
  /** This forward's fake-quantized weight (with its qparams) and grid bias of each conv / linear, for the exact conv. */
  private readonly denseParts = new Map<string, DenseParts>();
  /** CALIBRATION: what the observers still have to see (a whole tensor, or its device-side min/max). */
  private pending: { site: Site; values: BTensor[]; shape: readonly number[]; tape: Tape }[] = [];

  constructor(readonly be: Backend, readonly plan: QuantPlan, readonly store: ParamStore) {
    const qc = plan.qconfig;
    const rounding = qc.rounding;
    const make = (id: string, kind: Site['kind'], s: ActSite | WeightSite, channels: number): Site => ({
      id, kind, channels, spec: s.spec, range: { quantMin: s.quantMin, quantMax: s.quantMax, rounding },
      qparams: be.zeros([channels, 3]), running: be.zeros([2, channels]), initialized: false, observer: null,
    });
    for (const a of plan.acts) {
      const site = make(a.node, 'act', a, 1);
      this.acts.set(a.node, site);
      if (a.spec.observer === 'fixed_scale' && a.spec.fixedScale) this.setRange(site, a.spec.fixedScale);
    }
    for (const w of plan.weights) this.weights.set(w.node, make(w.param, 'weight', w, w.channels));
    this.biases = new Map(plan.biases.map((b) => [b.node, b]));
    this.exact = new Map(plan.exact.map((e) => [e.node, e]));
  }

  get powerOfTwo(): boolean {
    return marchUsesPowerOfTwoScale(this.plan.qconfig.march);
  }

  /** One call switches every FakeQuantize of the model. */
  setState(s: FakeQuantState): void {
    this.state = s;
    this.pending = [];
    if (s === 'CALIBRATION') {
      for (const site of this.acts.values()) {
        if (site.spec.observer === 'fixed_scale') continue;
        site.observer = createObserver(site.spec.observer, {
          dtype: site.spec.dtype, qscheme: 'per_tensor_symmetric', march: this.plan.qconfig.march,
          quantMin: site.range.quantMin, quantMax: site.range.quantMax,
        });
      }
    }
  }

  get hooks(): Hooks {
    return {
      hook: (node, value, tape, inputs) => this.activation(node, value, tape, inputs),
      weightHook: (node, w, tape) => this.weight(node, w, tape),
      biasHook: (node, b, tape) => this.bias(node, b, tape),
    };
  }

  private activation(node: GraphNode, value: Var, tape: Tape, inputs?: readonly Var[]): Var {
    const site = this.acts.get(node.id);
    const dense = this.denseParts.get(node.id);
    this.denseParts.delete(node.id);
    if (!site) return value;
    if (this.state === 'CALIBRATION') {
      if (!site.observer) return value;
      if (MINMAX_OBSERVERS.has(site.spec.observer)) {
        // Min-max observers only need the range: reduce on the device, read back two numbers.
        const [mn, mx] = this.be.minMax(value.value, perTensor(value.value.size));
        tape.own(mn);
        tape.own(mx);
        this.pending.push({ site, values: [mn, mx], shape: [2], tape });
      } else if (site.observer instanceof HistogramObserver) {
        // Min/max on the device first; the histogram itself is binned on the device in observePending,
        // once the observer has planned the batch's range.
        const [mn, mx] = this.be.minMax(value.value, perTensor(value.value.size));
        tape.own(mn);
        tape.own(mx);
        this.pending.push({ site, values: [mn, mx, value.value], shape: value.shape, tape });
      } else {
        this.pending.push({ site, values: [value.value], shape: value.shape, tape });
      }
      return value;
    }
    const layout = perTensor(value.value.size);
    const training = this.state === 'QAT' && tape.training;
    if (training && (!site.initialized || site.spec.averagingConstant > 0)) {
      const [mn, mx] = this.be.minMax(value.value, layout);
      tape.own(mn);
      tape.own(mx);
      this.be.updateQParamsInPlace(site.running, mn, mx, site.qparams, {
        averagingConstant: site.spec.averagingConstant, first: !site.initialized, quantMin: site.range.quantMin,
        quantMax: site.range.quantMax, eps: EPS_F32, powerOfTwo: this.powerOfTwo,
      });
      site.initialized = true;
    }
    if (!site.initialized) throw new NotCalibratedError(`activation ${node.id} has no scale yet: calibrate first (or run QAT)`);
    const exact = inputs && this.exactForward(node, site, value, inputs, layout, tape, dense);
    return exact ?? tape.apply(fakeQuantFn, [value], { qparams: site.qparams, layout, range: site.range });
  }

  /**
   * The simulator's integers for an op of the plan's `exact` whose input sites have scales (null: the float op's fake
   * quant). A Mul whose second input is not the smaller (per element or per channel) has none either.
   */
  private exactForward(
    node: GraphNode, site: Site, value: Var, inputs: readonly Var[], layout: ChannelLayout, tape: Tape, dense?: DenseParts,
  ): Var | null {
    const ex = this.exact.get(node.id);
    // Not in a training step: there the float op + fake quant, whose derivative the STE gradient is, trains better
    // (vit_cls distillation QAT, output SQNR vs float 34.31 -> 35.47 dB; 33.86 dB with the integer forward in training)
    if (!ex || !this.exactEnabled || tape.training) return null;
    const sites = ex.inputs.map((i) => this.acts.get(i));
    if (sites.some((s) => !s?.initialized)) return null;
    if (ex.op === 'conv') {
      const bs = this.biases.get(node.id);
      if (!dense?.weight || (bs && !dense.bias) || node.attrs.conv === undefined) return null;
      const [, O, OH, OW] = value.shape;
      const [, cg, kh, kw] = dense.weight.value.shape;
      const mode = convExactMode(cg * kh * kw, Math.max(-sites[0]!.range.quantMin, sites[0]!.range.quantMax), 128);
      if (!mode) return null;
      const spec: ConvExactSpec = {
        mode,
        march: this.plan.qconfig.march, bits: 32, quantMin: site.range.quantMin, quantMax: site.range.quantMax,
        act: (node.attrs.act as 'relu' | 'relu6' | undefined) ?? 'none', channels: O, inner: OH * OW,
      };
      return tape.apply(convExactFn, [value, inputs[0], dense.weight.value, ...inputs.slice(1, 2)], {
        spec, geometry: node.attrs.conv, qx: sites[0]!.qparams, qw: dense.weight.qparams, qo: site.qparams, qa: sites[1]?.qparams ?? null,
        bias: dense.bias?.b ?? null, bqp: dense.bias?.qparams ?? null, layout, range: site.range,
      });
    }
    if (ex.op === 'mul' && (inputs[1].value.size > inputs[0].value.size || inputs[0].value.size % inputs[1].value.size)) return null;
    if (ex.op === 'rescale' && inputs.some((x) => x.shape.length < 2)) return null;
    const spec: ExactSpec = { op: ex.op, march: this.plan.qconfig.march, bits: 32, quantMin: site.range.quantMin, quantMax: site.range.quantMax };
    return tape.apply(requantExactFn, [value, ...inputs], { spec, qparams: [...sites.map((s) => s!.qparams), site.qparams], layout, range: site.range });
  }

  /** Weights: per output channel, scales from the current weights at every forward (min-max). */
  private weight(node: GraphNode, w: Var, tape: Tape): Var {
    const site = this.weights.get(node.id);
    if (!site || this.state === 'CALIBRATION') return w;
    const layout = perOutputChannel(w.shape);
    const [mn, mx] = this.be.minMax(w.value, layout);
    tape.own(mn);
    tape.own(mx);
    this.be.updateQParamsInPlace(site.running, mn, mx, site.qparams, {
      averagingConstant: 1, first: true, quantMin: site.range.quantMin, quantMax: site.range.quantMax,
      eps: EPS_F32, powerOfTwo: this.powerOfTwo,
    });
    site.initialized = true;
    const value = tape.apply(fakeQuantFn, [w], { qparams: site.qparams, layout, range: site.range });
    this.denseParts.set(node.id, { weight: { value, qparams: site.qparams } });
    return value;
  }

  /**
   * Biases: on the int32 grid at f32(x_scale * w_scale[c]) as convert quantizes them (half to even, saturated),
   * straight-through where not clamped. Float where a scale is not known yet (the weight's is set by this forward's
   * weight hook, which the op reads first; the input's by calibration or the first QAT step).
   */
  private bias(node: GraphNode, b: Var, tape: Tape): Var {
    const bs = this.biases.get(node.id);
    const x = bs && this.acts.get(bs.input);
    return this.biasOnGrid(node, b, tape, x?.initialized ? x.qparams : null);
  }

  /**
   * `node`'s bias on its int32 grid with the input's qparams `xq` (per tensor; null: not known, the bias stays float)
   * and the weight's qparams of this forward; also for hooks that choose activation scales of their own (PTQ search).
   */
  biasOnGrid(node: GraphNode, b: Var, tape: Tape, xq: BTensor | null): Var {
    const w = this.weights.get(node.id);
    if (!xq || !this.biases.has(node.id) || this.state === 'CALIBRATION' || !w?.initialized) return b;
    const qparams = tape.own(this.be.biasQParams(xq, w.qparams));
    const parts = this.denseParts.get(node.id);
    if (parts) parts.bias = { b: b.value, qparams };
    return tape.apply(fakeQuantFn, [b], { qparams, layout: { outer: 1, channels: b.value.size, inner: 1 }, range: BIAS_RANGE });
  }

  /** After a CALIBRATION forward: reads the activations back and feeds the observers. */
  async observePending(): Promise<void> {
    const pending = this.pending;
    this.pending = [];
    for (const { site, values, shape, tape } of pending) {
      if (site.observer instanceof HistogramObserver) {
        await this.observeHistogram(site.observer, values, tape);
        continue;
      }
      const parts = await Promise.all(values.map((t) => this.be.read(t)));
      const data = parts.length === 1 ? parts[0] : Float32Array.from(parts.flatMap((p) => Array.from(p)));
      site.observer!.observe(data, shape);
    }
  }

  /** HistogramObserver fed by device reductions: min/max, then torch.histc on the range it plans. */
  private async observeHistogram(obs: HistogramObserver, [mn, mx, x]: BTensor[], tape: Tape): Promise<void> {
    const xMin = (await this.be.read(mn))[0], xMax = (await this.be.read(mx))[0];
    const plan = obs.planBatch(xMin, xMax);
    // torch.histc's degenerate-range rule: the tensor's own range, then ±1 around it.
    let lo = plan.histcMin, hi = plan.histcMax;
    if (lo === hi) [lo, hi] = [xMin, xMax];
    if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
    const h = tape.own(this.be.histogram(x, obs.bins, lo, hi));
    obs.commitBatch(plan, await this.be.read(h));
  }

  /** Turns the observers' statistics into scales (symmetric, zero point 0). */
  finishCalibration(): void {
    for (const site of this.acts.values()) {
      if (!site.observer) continue;
      const q = site.observer.calculateQParams();
      this.setRange(site, q.scale[0]);
      site.observer = null;
    }
  }

  /** Sets a per-tensor site to `scale`, with a running range that reproduces it under later QAT updates. */
  private setRange(site: Site, scale: number): void {
    const half = (site.range.quantMax - site.range.quantMin) / 2;
    this.be.release(site.qparams);
    this.be.release(site.running);
    site.qparams = this.be.upload(new Float32Array([scale, Math.fround(1 / Math.fround(scale)), 0]), [1, 3]);
    site.running = this.be.upload(new Float32Array([-scale * half, scale * half]), [2, 1]);
    site.initialized = true;
  }

  /** Scales per site, for reports and the converter. */
  async scales(): Promise<{ activations: Record<string, number>; weights: Record<string, number[]> }> {
    const activations: Record<string, number> = {};
    const weights: Record<string, number[]> = {};
    for (const [id, s] of this.acts) if (s.initialized) activations[id] = (await this.be.read(s.qparams))[0];
    for (const s of this.weights.values()) {
      if (!s.initialized) continue;
      const q = await this.be.read(s.qparams);
      weights[s.id] = Array.from({ length: s.channels }, (_, c) => q[3 * c]);
    }
    return { activations, weights };
  }

  /** qparams and running ranges of the activation sites, for checkpoints. */
  async toHost(): Promise<HostParams> {
    const out: HostParams = {};
    for (const [id, s] of this.acts) {
      if (!s.initialized) continue;
      out[`qsite:${id}:qparams`] = await this.be.read(s.qparams);
      out[`qsite:${id}:running`] = await this.be.read(s.running);
    }
    return out;
  }

  loadHost(host: HostParams): void {
    for (const [id, s] of this.acts) {
      const qp = host[`qsite:${id}:qparams`];
      const rn = host[`qsite:${id}:running`];
      if (!qp || !rn) continue;
      this.be.release(s.qparams);
      this.be.release(s.running);
      s.qparams = this.be.upload(qp, [1, 3]);
      s.running = this.be.upload(rn, [2, 1]);
      s.initialized = true;
    }
  }

  dispose(): void {
    for (const s of [...this.acts.values(), ...this.weights.values()]) {
      this.be.release(s.qparams);
      this.be.release(s.running);
    }
    this.acts.clear();
    this.weights.clear();
  }
}
