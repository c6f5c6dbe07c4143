/**
 * Automatic calibration (horizon_plugin_pytorch's calibration guide, 7.5.6): record the float model's outputs on
 * the calibration images; then for each activation site in topological order, with every site before it
 * quantized at its chosen scale, observe the site with each candidate observer, and keep the candidate whose scale
 * gives the smallest distance between the model's final output and the float output (the criterion: the guide's
 * L2, or the softmax KL / the labels' cross-entropy, auto-calib-criteria.ts).
 *
 * The search starts from the best uniform assignment: each candidate observer first calibrates the whole model on
 * its own (every site observed on float values, as a calibration with that single observer does), and the one with
 * the smallest distance gives every site its starting scale. Every observer named with a parameter
 * (percentile:99.9) is also a candidate with its default parameters, so the start is at least as good, by the
 * criterion, as a calibration with any single observer named. The per-site search then runs with the sites
 * after the current one quantized at those starting scales, and the site's current scale is itself a candidate, so a
 * site changes only where that lowers the distance: the result is never worse, by the criterion, than the
 * best single observer. (A site's observed value depends only on the sites before it, so quantizing the later ones
 * does not change what the candidates see.) The chosen scales are loaded into the model; the per-site choices (with
 * every candidate's scale and distance) and the uniform assignments' distances are returned for the report.
 *
 * Two guards against fitting the noise of a few hundred calibration images (a lower criterion on them that does
 * not carry over to other images): the distance may be measured on more images than the observers see
 * (`observeImages`: the first ones of the data set feed the observers, as a calibration with `--calib-images` does;
 * all of them are scored), and a site moves only to a candidate whose improvement is consistent image by image
 * (`gate`: the paired z statistic of the per-image criterion, auto-calib-criteria.ts, at least this; of those, the
 * lowest; 0: any improvement, the guide's rule).
 */
import { Tape, type Var } from '../../engine/autograd.ts';
import { subset, type ImageDataset } from '../../data/dataset.ts';
import { iterateBatches, type Normalization } from '../../data/loader.ts';
import { runGraph } from '../../nn/executor.ts';
import type { HostParams } from '../../nn/params.ts';
import { candidateObserver, checkCandidates, withDefaults } from './auto-calib-candidates.ts';
import { AUTO_CALIB_DEFAULT_CRITERION, criterionOf, criterionPerImage, pairedImprovement, type AutoCalibCriterion } from './auto-calib-criteria.ts';
import type { Observer } from '../observers/index.ts';
import type { QuantizedModel } from '../quantized-model.ts';
import { scaleQParams, scaleRunning, SiteScaleHooks } from './site-scales.ts';

export { AUTO_CALIB_DEFAULT, AUTO_CALIB_OBSERVERS, checkCandidates, withDefaults } from './auto-calib-candidates.ts';
export { AUTO_CALIB_CRITERIA, AUTO_CALIB_CRITERION_LABELS, AUTO_CALIB_DEFAULT_CRITERION, isAutoCalibCriterion, type AutoCalibCriterion } from './auto-calib-criteria.ts';

export interface AutoCalibConfig {
  /** Observer names, or name:parameter (auto-calib-candidates.ts). */
  candidates: string[];
  batchSize: number;
  /** What the search minimises (default AUTO_CALIB_DEFAULT_CRITERION). */
  criterion?: AutoCalibCriterion;
  /** The first this many images of the data set feed the observers (default all); every image is scored. */
  observeImages?: number;
  /** A site moves only to a lower candidate whose paired z of improvement is at least this (default 0: any improvement). */
  gate?: number;
}

/** The default gate: 0, any lower distance moves a site (the guide's rule). */
export const AUTO_CALIB_DEFAULT_GATE = 0;
/** The gates the page offers (the CLI takes any z >= 0). */
export const AUTO_CALIB_GATES = [0, 2, 3] as const;

/** One candidate at one site; `observer` is "current" for the scale the site already had (from the start). */
export interface AutoCalibCandidate {
  observer: string; scale: number; distance: number;
  /** Paired z of its per-image improvement on the current scale (pairedImprovement; 0 for the current scale; absent in results made before the gate). */
  z?: number;
}
export interface AutoCalibChoice {
  site: string;
  /** The observer whose scale the site ends with ('fixed_scale' for a site with a fixed scale, which is not searched). */
  observer: string;
  scale: number;
  /** false: the site kept its starting scale (the best uniform observer's): no candidate lowered the distance, or the gate held. */
  changed: boolean;
  /** A candidate lowered the distance but not consistently enough (its z below the gate), so the site stayed. */
  gated?: boolean;
  candidates: AutoCalibCandidate[];
}
/** One candidate observer calibrating the whole model on its own: its scale per site, and the criterion's distance. */
export interface AutoCalibUniform { observer: string; distance: number; scales: Record<string, number> }

export interface AutoCalibReport {
  /** The candidates tried (those asked for, plus each observer named with a parameter at its defaults). */
  candidates: string[];
  criterion: AutoCalibCriterion;
  /** Images scored (the distance), and the first of them that fed the observers. */
  images: number;
  observe_images?: number;
  /** The gate (absent in results made before it: 0). */
  gate?: number;
  /** Every candidate as the single observer of the whole model, with its distance. */
  uniform: AutoCalibUniform[];
  /** The best of `uniform`: where the search started. */
  start: string;
  /** The criterion's distance of the chosen scales (at most the start's). */
  distance: number;
  choices: AutoCalibChoice[];
  seconds: number;
}

export interface AutoCalibOptions {
  normalize?: Normalization;
  signal?: AbortSignal;
  /** site 0: the uniform assignments (candidate k of n); then site s of `sites`. */
  onProgress?: (p: { site: number; sites: number; node: string; candidate: string }) => void;
}

/** Candidate runs the search makes: one whole-model run per candidate, then one per candidate and searched site. */
export function autoCalibTrials(qm: QuantizedModel, candidates: readonly string[]): number {
  return (searchedSites(qm).length + 1) * withDefaults(checkCandidates(candidates)).length;
}

function searchedSites(qm: QuantizedModel) {
  return qm.plan.acts.filter((a) => !(a.spec.observer === 'fixed_scale' && a.spec.fixedScale));
}

/** Node values of one run before a site, per batch index (their tapes alive until released). */
interface Prefix { before?: number; kept: Map<number, { tape: Tape; values: Map<string, Var> }>; floats: number; full?: boolean }

/** At most this many floats of such values are kept (256 MiB; their tapes hold more); beyond, the candidates' runs start from the input. */
const KEEP_FLOATS = 1 << 26;

function releasePrefix(p: Prefix): void {
  for (const k of p.kept.values()) k.tape.dispose();
  p.kept.clear();
}

/** The images [a, b) of `ds` (copied), empty when b <= a. */
const range = (ds: ImageDataset, a: number, b: number) => subset(ds, Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i));

export async function autoCalibrate(qm: QuantizedModel, ds: ImageDataset, cfg: AutoCalibConfig, o: AutoCalibOptions = {}): Promise<AutoCalibReport> {
  const start = performance.now();
  const candidates = withDefaults(checkCandidates(cfg.candidates));
  const criterion = cfg.criterion ?? AUTO_CALIB_DEFAULT_CRITERION;
  const gate = cfg.gate ?? AUTO_CALIB_DEFAULT_GATE;
  if (!(gate >= 0 && Number.isFinite(gate))) throw new Error(`automatic calibration: the gate must be a number >= 0, got ${gate}`);
  const nObserve = Math.min(cfg.observeImages ?? ds.count, ds.count);
  if (!(Number.isInteger(nObserve) && nObserve >= 1)) throw new Error(`automatic calibration: observeImages must be a positive integer, got ${cfg.observeImages}`);
  const { be, plan } = qm;
  const g = plan.graph;
  qm.setState('VALIDATION');
  // The observed images (batched as a calibration of them alone is), then the scored-only ones after them.
  const batches: { x: Float32Array; shape: number[]; labels: Float32Array; observe: boolean }[] = [];
  for (const [part, observe] of [[range(ds, 0, nObserve), true], [range(ds, nObserve, ds.count), false]] as const) {
    if (!part.count) continue;
    for (const b of iterateBatches(part, cfg.batchSize, 0, 0, { shuffle: false, normalize: o.normalize })) {
      batches.push({ x: b.x.slice(), shape: [...b.shape], labels: b.labels.slice(), observe });
    }
  }
  if (criterion === 'loss' && !ds.labels) throw new Error('automatic calibration: the loss criterion needs labelled calibration images (use l2 or kl)');
  const cancelled = () => {
    if (o.signal?.aborted) throw new DOMException('automatic calibration cancelled', 'AbortError');
  };

  const order = new Map(g.nodes.map((n, i) => [n.id, i]));
  /**
   * Final outputs of every batch under `hooks` (null: the float model); `onRun` after an observed batch's run.
   * `prefix`: with `before` set, each batch's node values before that node index are kept (its tape stays alive)
   * in `kept`, as long as they fit KEEP_FLOATS; without, a batch's `kept` values are where its run starts
   * (runGraph's `given`).
   */
  const outputs = async (h: SiteScaleHooks | null, onRun?: (tape: Tape) => Promise<void>, prefix?: Prefix): Promise<Float32Array[]> => {
    const out: Float32Array[] = [];
    for (const [bi, b] of batches.entries()) {
      cancelled();
      // A scored-only batch runs in an observation run only to keep its values; once they no longer fit, it need not.
      if (prefix?.before !== undefined && prefix.full && !b.observe) continue;
      const tape = new Tape(be, false, false);
      let keep = false;
      try {
        const before = prefix?.before;
        const given = before === undefined ? prefix?.kept.get(bi)?.values : undefined;
        const r = runGraph(tape, g, qm.store, tape.input(b.x, b.shape), {
          ...(h ? h.hooks() : {}), given, ...(before !== undefined ? { keep: (n) => order.get(n.id)! < before } : {}),
        });
        out.push(await be.read(r.output.value));
        if (onRun && b.observe) await onRun(tape);
        if (before !== undefined && prefix) {
          const floats = [...r.values.values()].reduce((t, v) => t + v.value.size, 0);
          keep = prefix.floats + floats <= KEEP_FLOATS;
          prefix.full ||= !keep;
          if (keep) {
            prefix.floats += floats;
            prefix.kept.set(bi, { tape, values: r.values });
          }
        }
      } finally {
        if (!keep) tape.dispose();
      }
    }
    return out;
  };
  /** Runs with `scales`, feeding each watched site's values (before its fake quant) to its observers. */
  const observe = async (scales: ReadonlyMap<string, number>, observers: Map<string, Observer[]>, floatWeights = false, prefix?: Prefix): Promise<Float32Array[]> => {
    const h = new SiteScaleHooks(qm, scales, new Set(observers.keys()), floatWeights);
    try {
      return await outputs(h, async () => {
        for (const { site, value } of h.watched) {
          const data = await be.read(value.value);
          for (const ob of observers.get(site)!) ob.observe(data, value.shape);
        }
        h.watched = [];
      }, prefix);
    } finally {
      h.dispose();
    }
  };
  const observersFor = (a: (typeof plan.acts)[number]) => candidates.map((name) => candidateObserver(name, {
    dtype: a.spec.dtype, qscheme: 'per_tensor_symmetric', march: plan.qconfig.march, quantMin: a.quantMin, quantMax: a.quantMax,
  }));
  let floatOut: Float32Array[] = [];
  const labels = batches.map((b) => b.labels);
  const perImage = (outs: Float32Array[]) => criterionPerImage(criterion, outs, floatOut, labels, g.numClasses);
  const perImageOf = async (scales: ReadonlyMap<string, number>, prefix?: Prefix) => {
    const h = new SiteScaleHooks(qm, scales);
    try {
      return perImage(await outputs(h, undefined, prefix && { kept: prefix.kept, floats: prefix.floats }));
    } finally {
      h.dispose();
    }
  };

  // The float run (float weights too) records the outputs and feeds every candidate's observers at every site, as
  // a calibration with that one observer sees them.
  const searched = searchedSites(qm);
  const fixed = new Map(plan.acts.filter((a) => !searched.includes(a)).map((a) => [a.node, a.spec.fixedScale!]));
  const floatObs = new Map(searched.map((a) => [a.node, observersFor(a)]));
  floatOut = await observe(new Map(), floatObs, true);
  const uniformScales = candidates.map((_, k) => new Map([...fixed, ...searched.map((a) => [a.node, floatObs.get(a.node)![k].calculateQParams().scale[0]] as const)]));
  const uniform: AutoCalibUniform[] = [];
  const uniformPer: Float64Array[] = [];
  for (let k = 0; k < candidates.length; k++) {
    o.onProgress?.({ site: 0, sites: searched.length, node: '', candidate: candidates[k] });
    uniformPer.push(await perImageOf(uniformScales[k]));
    uniform.push({ observer: candidates[k], distance: criterionOf(criterion, uniformPer[k]), scales: Object.fromEntries(uniformScales[k]) });
  }
  // Ties go to the earlier candidate.
  const startK = uniform.reduce((b, u, k) => (u.distance < uniform[b].distance ? k : b), 0);
  const chosen = new Map(uniformScales[startK]);
  const chosenBy = new Map(searched.map((a) => [a.node, candidates[startK]]));
  let current = uniform[startK].distance;
  let currentPer = uniformPer[startK];

  const choices: AutoCalibChoice[] = [];
  for (const a of plan.acts) {
    const f = fixed.get(a.node);
    if (f !== undefined) {
      choices.push({ site: a.node, observer: 'fixed_scale', scale: f, changed: false, gated: false, candidates: [] });
      continue;
    }
    // Observe the site (float value, everything before it quantized at its chosen scale), keeping the values
    // before it: the candidates differ only from the site on, so their runs start there.
    const observers = observersFor(a);
    const prefix: Prefix = { before: order.get(a.node)!, kept: new Map(), floats: 0 };
    const tried: AutoCalibCandidate[] = [{ observer: 'current', scale: chosen.get(a.node)!, distance: current, z: 0 }];
    const triedPer: Float64Array[] = [currentPer];
    try {
      await observe(chosen, new Map([[a.node, observers]]), false, prefix);
      for (let k = 0; k < candidates.length; k++) {
        o.onProgress?.({ site: searched.indexOf(a) + 1, sites: searched.length, node: a.node, candidate: candidates[k] });
        const scale = observers[k].calculateQParams().scale[0];
        const per = scale === chosen.get(a.node) ? currentPer : await perImageOf(new Map([...chosen, [a.node, scale]]), prefix);
        tried.push({ observer: candidates[k], scale, distance: criterionOf(criterion, per), z: pairedImprovement(currentPer, per) });
        triedPer.push(per);
      }
    } finally {
      releasePrefix(prefix);
    }
    // Strictly better only: ties keep the current scale, then go to the earlier candidate. Of the lower candidates,
    // only those whose improvement passes the gate may move the site (with gate 0, every lower one: z > 0 there).
    const lowest = (ok: (c: AutoCalibCandidate) => boolean) => tried.reduce((b, c, i) => (ok(c) && c.distance < tried[b].distance ? i : b), 0);
    const bi = lowest((c) => (c.z ?? 0) >= gate);
    const changed = bi !== 0;
    const gated = !changed && lowest(() => true) !== 0;
    if (changed) {
      chosen.set(a.node, tried[bi].scale);
      chosenBy.set(a.node, tried[bi].observer);
      current = tried[bi].distance;
      currentPer = triedPer[bi];
    }
    choices.push({ site: a.node, observer: chosenBy.get(a.node)!, scale: chosen.get(a.node)!, changed, gated, candidates: tried });
  }
  const host: HostParams = {};
  for (const a of plan.acts) {
    const s = chosen.get(a.node)!;
    host[`qsite:${a.node}:qparams`] = scaleQParams(s);
    host[`qsite:${a.node}:running`] = scaleRunning(s, a.quantMin, a.quantMax);
  }
  qm.loadHost(host);
  return {
    candidates, criterion, images: ds.count, observe_images: nObserve, gate, uniform, start: candidates[startK], distance: current, choices,
    seconds: (performance.now() - start) / 1000,
  };
}
