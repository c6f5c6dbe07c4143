/**
 * The deployment check: the same images through the QAT / calibrated model (VALIDATION state: fake quant on, scales
 * fixed, on the engine with the quantization hooks) and through the fixed-point simulator, compared
 *  - at the output: top-1 agreement (NaN when it is not class scores), Acc@1 / Acc@5 of each (NaN for a set without
 *    labels);
 *  - at every output, of any shape (deploy-outputs.ts): cosine, SQNR, max |diff| in LSB, and the top-1 agreement of
 *    the outputs that are class scores;
 *  - per layer (every activation site and int32 output): the simulator's integers against the fake-quant model's
 *    value at the same site (runGraph `keep`), in the site's integer domain:
 *      equal_frac  share of elements where round(fake_quant / lsb) == simulator integer
 *      max_lsb     max |fake_quant / lsb − simulator integer|
 *      cosine      cosine similarity of the dequantized simulator values and the fake-quant values
 *      sqnr_db     10·log10(Σ ref² / Σ (ref − sim·lsb)²), ref = fake-quant value (null in JSON when identical)
 *    with lsb = the site's scale (int8/int16) or x_scale·w_scale[o] per channel (int32 outputs).
 *    Sorted worst first (lowest SQNR, then largest max_lsb). These are end to end: a layer's figure includes what
 *    earlier layers left; `isolated` adds each layer alone, fed the fake-quant integers (isolated_max_lsb).
 * The simulator is reached through a function, so the CLI can go through the worker protocol (SimClient) and
 * tests can call runIntModel directly.
 */
import { Tape } from '../engine/autograd.ts';
import type { ImageDataset } from '../data/dataset.ts';
import { iterateBatches, type Normalization } from '../data/loader.ts';
import { runGraph } from '../nn/executor.ts';
import { countTopK, argmaxRows } from '../nn/metrics.ts';
import type { IntModel } from './convert.ts';
import { graphOutputs, outputNames } from '../graph/ir.ts';
import { intModelOutputs } from '../sim/model.ts';
import { isClassScores, OutputCompare, type OutputStats } from './deploy-outputs.ts';
import { isolatedMaxLsb } from './deploy-isolated.ts';
import type { QuantizedModel } from './quantized-model.ts';

export interface SimBatchResult {
  /** The (first) output. */
  output: Float32Array;
  /** Every output in the model's order (outputs[0] = output), as floats or as runIntModel's; absent: the one output. */
  outputs?: readonly (Float32Array | { output: Float32Array })[];
  /** Integer values by layer id (at least the requested ones). */
  dumps: Map<string, { data: ArrayLike<number> }> | Record<string, { data: ArrayLike<number> }>;
}

/** Runs the simulator on one batch and returns its dequantized output and the requested integer dumps. */
export type SimulateFn = (x: Float32Array, n: number, dump: string[]) => Promise<SimBatchResult>;

export interface LayerStats {
  name: string;
  dtype: string;
  elements: number;
  equal_frac: number;
  max_lsb: number;
  cosine: number;
  /** Infinity when the simulator equals the fake-quant model exactly. */
  sqnr_db: number;
  /** With `isolated`: max |diff| in LSB of the layer alone, fed the fake-quant model's integers (deploy-isolated.ts). */
  isolated_max_lsb?: number;
}

export interface DeployCheckResult {
  images: number;
  /** % of images whose top-1 class agrees; NaN when the (first) output is not class scores (deploy-outputs.ts). */
  agreement_top1: number;
  /** Fake-quant (QAT/calibrated) model. */
  qat: { acc1: number; acc5: number };
  /** Simulator. */
  int: { acc1: number; acc5: number };
  layers: LayerStats[];
  /**
   * The float islands of a heterogeneous model (the integer model's 'float' layers): ops that run in float on the CPU
   * between a dequantize and a quantize, not on the BPU, and why. Empty: every op is integer (absent in results saved
   * before heterogeneous models existed).
   */
  float_islands?: FloatIsland[];
  /** Every output of the model, in order (absent from results saved before several outputs existed). */
  outputs?: OutputStats[];
  seconds: number;
}

export interface FloatIsland { name: string; op: string; reason: string }

/** The float islands of an integer model, in layer order. */
export function floatIslandsOf(im: IntModel): FloatIsland[] {
  return im.layers.flatMap((l) => (l.op === 'float' ? [{ name: l.id, op: l.fn.kind, reason: l.reason }] : []));
}

export interface DeployCheckOptions {
  batchSize?: number;
  normalize?: Normalization;
  signal?: AbortSignal;
  onProgress?: (p: { images: number; totalImages: number }) => void;
  /** Also compare each layer alone, fed the fake-quant integers (the CPU simulator; about doubles the time). */
  isolated?: boolean;
}

interface Acc { n: number; equal: number; maxLsb: number; dot: number; refSq: number; simSq: number; errSq: number }

export async function deployCheck(qm: QuantizedModel, im: IntModel, ds: ImageDataset, simulate: SimulateFn, o: DeployCheckOptions = {}): Promise<DeployCheckResult> {
  const start = performance.now();
  const prevState = qm.state;
  qm.setState('VALIDATION');
  const sites = Object.keys(im.values).filter((id) => qm.acts.has(id) || qm.plan.int32Outputs.includes(id));
  const siteSet = new Set(sites);
  const stats = new Map<string, Acc>(sites.map((s) => [s, { n: 0, equal: 0, maxLsb: 0, dot: 0, refSq: 0, simSq: 0, errSq: 0 }]));
  const alone = new Map<string, number>();
  const K = im.numClasses;
  const outs = outputCompares(qm, im);
  // Top-1 agreement needs class scores as the (first) output; boxes or feature maps are compared per output only.
  const scores = isClassScores(outs[0].d.shape);
  let seen = 0, agree = 0, q1 = 0, q5 = 0, s1 = 0, s5 = 0;
  try {
    for (const b of iterateBatches(ds, o.batchSize ?? 256, 0, 0, { shuffle: false, normalize: o.normalize })) {
      if (o.signal?.aborted) throw new DOMException('deployment check cancelled', 'AbortError');
      const tape = new Tape(qm.be, false, false);
      let ref: Float32Array;
      let refOuts: Float32Array[];
      const refVals = new Map<string, Float32Array>();
      try {
        const { output, outputs, values } = runGraph(tape, qm.plan.graph, qm.store, tape.input(b.x, b.shape), { ...qm.hooks, keep: (n) => o.isolated || siteSet.has(n.id) });
        ref = await qm.be.read(output.value);
        refOuts = [ref];
        for (const v of outputs.slice(1)) refOuts.push(await qm.be.read(v.value));
        for (const [id, v] of values) refVals.set(id, await qm.be.read(v.value));
      } finally {
        tape.dispose();
      }
      if (o.isolated) for (const [id, m] of isolatedMaxLsb(im, sites, refVals, b.n)) alone.set(id, Math.max(alone.get(id) ?? 0, m));
      const sim = await simulate(b.x, b.n, sites);
      const dumps = sim.dumps instanceof Map ? sim.dumps : new Map(Object.entries(sim.dumps));
      for (const id of sites) {
        const r = refVals.get(id), d = dumps.get(id);
        if (!r || !d) throw new Error(`deployment check: no value for layer ${id} (${!r ? 'fake-quant model' : 'simulator'})`);
        accumulate(stats.get(id)!, r, d.data, im.values[id].scales, b.n);
      }
      const simOuts = (sim.outputs ?? [sim.output]).map((o) => (o instanceof Float32Array ? o : o.output));
      if (simOuts.length !== outs.length) throw new Error(`deployment check: the simulator returned ${simOuts.length} outputs, the model has ${outs.length}`);
      outs.forEach((c, k) => c.add(refOuts[k], simOuts[k], b.n));
      if (scores) {
        const ra = argmaxRows(ref, b.n, K), sa = argmaxRows(sim.output, b.n, K);
        for (let i = 0; i < b.n; i++) if (ra[i] === sa[i]) agree++;
      }
      if (ds.labels) {
        const cq = countTopK(ref, b.labels, b.n, K), cs = countTopK(sim.output, b.labels, b.n, K);
        q1 += cq.top1; q5 += cq.top5; s1 += cs.top1; s5 += cs.top5;
      }
      seen += b.n;
      o.onProgress?.({ images: seen, totalImages: ds.count });
    }
  } finally {
    qm.setState(prevState);
  }
  const pct = (v: number) => (100 * v) / Math.max(1, seen);
  // Without labels there is no accuracy (NaN); the agreement and the per-layer comparison need none.
  const acc = (v: number) => (ds.labels ? pct(v) : NaN);
  const layers: LayerStats[] = sites.map((name) => {
    const a = stats.get(name)!;
    return {
      name, dtype: im.values[name].dtype, elements: a.n,
      equal_frac: a.equal / Math.max(1, a.n),
      max_lsb: a.maxLsb,
      cosine: a.refSq === 0 && a.simSq === 0 ? 1 : a.dot / Math.sqrt(a.refSq * a.simSq || Number.MIN_VALUE),
      sqnr_db: a.errSq === 0 ? Infinity : 10 * Math.log10(a.refSq / a.errSq),
      ...(alone.has(name) ? { isolated_max_lsb: alone.get(name)! } : {}),
    };
  });
  layers.sort((x, y) => x.sqnr_db - y.sqnr_db || y.max_lsb - x.max_lsb || x.name.localeCompare(y.name));
  return {
    images: seen, agreement_top1: scores ? pct(agree) : NaN, qat: { acc1: acc(q1), acc5: acc(q5) }, int: { acc1: acc(s1), acc5: acc(s5) },
    layers, outputs: outs.map((c) => c.result()), float_islands: floatIslandsOf(im), seconds: (performance.now() - start) / 1000,
  };
}

/** One comparison per output: the graph's and the integer model's outputs pair up in order. */
function outputCompares(qm: QuantizedModel, im: IntModel): OutputCompare[] {
  const g = qm.plan.graph;
  const ids = graphOutputs(g), names = outputNames(g), dq = intModelOutputs(im);
  if (ids.join() !== dq.join()) throw new Error(`deployment check: the integer model's outputs (${dq.join(', ')}) are not the graph's (${ids.join(', ')})`);
  return ids.map((id, k) => {
    const src = im.layers.find((l) => l.id === id)!.inputs[0];
    const v = im.values[src];
    return new OutputCompare({ name: names[k], id, shape: g.nodes.find((n) => n.id === id)!.shape, dtype: v.dtype, scales: v.scales });
  });
}

function accumulate(a: Acc, ref: Float32Array, sim: ArrayLike<number>, scales: number[], n: number): void {
  if (ref.length !== sim.length) throw new Error(`deployment check: ${ref.length} fake-quant values vs ${sim.length} simulator values`);
  const C = scales.length;
  const inner = C === 1 ? ref.length : ref.length / n / C;
  for (let i = 0; i < ref.length; i++) {
    const lsb = C === 1 ? scales[0] : scales[Math.floor(i / inner) % C];
    const r = ref[i], q = sim[i];
    const rq = r / lsb;
    // int8/int16 sites: the fake-quant value is on the grid (k·scale), compare integers; int32: the real distance
    const d = C === 1 ? Math.abs(Math.round(rq) - q) : Math.abs(rq - q);
    if (Math.round(rq) === q) a.equal++;
    if (d > a.maxLsb) a.maxLsb = d;
    const s = Math.fround(q * lsb); // the dequantized simulator value, as the DeQuantStub computes it
    a.dot += r * s;
    a.refSq += r * r;
    a.simSq += s * s;
    a.errSq += (r - s) * (r - s);
  }
  a.n += ref.length;
}

/** The report.json form: {name, equal_frac, max_lsb, cosine, sqnr_db} (sqnr_db null when identical). */
export function layersForReport(layers: LayerStats[]): { name: string; equal_frac: number; max_lsb: number; cosine: number; sqnr_db: number | null; isolated_max_lsb?: number }[] {
  return layers.map((l) => ({
    name: l.name, equal_frac: l.equal_frac, max_lsb: l.max_lsb, cosine: l.cosine, sqnr_db: Number.isFinite(l.sqnr_db) ? l.sqnr_db : null,
    ...(l.isolated_max_lsb !== undefined ? { isolated_max_lsb: l.isolated_max_lsb } : {}),
  }));
}
