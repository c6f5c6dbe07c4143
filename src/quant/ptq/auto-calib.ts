/**
 * Automatic calibration (horizon_plugin_pytorch's calibration guide, 7.5.6): record the float model's outputs on
 * the calibration images; then for each activation site in topological order, with every site before it
 * quantized at its chosen scale (and the sites after it float; weights fake-quantized throughout), observe the
 * site with each candidate observer, and keep the candidate whose scale gives the smallest L2 distance between
 * the model's final output and the float output. The chosen scales are loaded into the model; the per-site
 * choices (with every candidate's scale and distance) are returned for the report.
 */
import { Tape } from '../../engine/autograd.ts';
import type { ImageDataset } from '../../data/dataset.ts';
import { iterateBatches, type Normalization } from '../../data/loader.ts';
import { runGraph } from '../../nn/executor.ts';
import type { HostParams } from '../../nn/params.ts';
import { candidateObserver, checkCandidates } from './auto-calib-candidates.ts';
import type { QuantizedModel } from '../quantized-model.ts';
import { scaleQParams, scaleRunning, SiteScaleHooks } from './site-scales.ts';

export { AUTO_CALIB_DEFAULT, AUTO_CALIB_OBSERVERS, checkCandidates } from './auto-calib-candidates.ts';

export interface AutoCalibConfig {
  /** Observer names, or name:parameter (auto-calib-candidates.ts). */
  candidates: string[];
  batchSize: number;
}

export interface AutoCalibCandidate { observer: string; scale: number; l2: number }
export interface AutoCalibChoice {
  site: string;
  /** The chosen observer ('fixed_scale' for a site with a fixed scale, which is not searched). */
  observer: string;
  scale: number;
  candidates: AutoCalibCandidate[];
}

export interface AutoCalibReport {
  candidates: string[];
  images: number;
  choices: AutoCalibChoice[];
  seconds: number;
}

export interface AutoCalibOptions {
  normalize?: Normalization;
  signal?: AbortSignal;
  onProgress?: (p: { site: number; sites: number; node: string; candidate: string }) => void;
}

export async function autoCalibrate(qm: QuantizedModel, ds: ImageDataset, cfg: AutoCalibConfig, o: AutoCalibOptions = {}): Promise<AutoCalibReport> {
  const start = performance.now();
  const candidates = checkCandidates(cfg.candidates);
  const { be, plan } = qm;
  const g = plan.graph;
  qm.setState('VALIDATION');
  const batches: { x: Float32Array; shape: number[] }[] = [];
  for (const b of iterateBatches(ds, cfg.batchSize, 0, 0, { shuffle: false, normalize: o.normalize })) batches.push({ x: b.x.slice(), shape: [...b.shape] });
  const cancelled = () => {
    if (o.signal?.aborted) throw new DOMException('automatic calibration cancelled', 'AbortError');
  };

  /** Final outputs of every batch under `hooks` (null: the float model). */
  const outputs = async (h: SiteScaleHooks | null, onRun?: (tape: Tape) => Promise<void>): Promise<Float32Array[]> => {
    const out: Float32Array[] = [];
    for (const b of batches) {
      cancelled();
      const tape = new Tape(be, false, false);
      try {
        const r = runGraph(tape, g, qm.store, tape.input(b.x, b.shape), h ? h.hooks() : {});
        out.push(await be.read(r.output.value));
        if (onRun) await onRun(tape);
      } finally {
        tape.dispose();
      }
    }
    return out;
  };
  const floatOut = await outputs(null);
  const l2 = (outs: Float32Array[]) => {
    let s = 0;
    outs.forEach((a, k) => { for (let i = 0; i < a.length; i++) s += (a[i] - floatOut[k][i]) ** 2; });
    return Math.sqrt(s);
  };

  const chosen = new Map<string, number>();
  const choices: AutoCalibChoice[] = [];
  for (let si = 0; si < plan.acts.length; si++) {
    const a = plan.acts[si];
    if (a.spec.observer === 'fixed_scale' && a.spec.fixedScale) {
      chosen.set(a.node, a.spec.fixedScale);
      choices.push({ site: a.node, observer: 'fixed_scale', scale: a.spec.fixedScale, candidates: [] });
      continue;
    }
    // Observe the site (float value, everything before it quantized) with every candidate at once.
    const observers = candidates.map((name) => candidateObserver(name, {
      dtype: a.spec.dtype, qscheme: 'per_tensor_symmetric', march: plan.qconfig.march, quantMin: a.quantMin, quantMax: a.quantMax,
    }));
    const watch = new SiteScaleHooks(qm, chosen, new Set([a.node]));
    try {
      await outputs(watch, async () => {
        for (const { value } of watch.watched) {
          const data = await be.read(value.value);
          for (const ob of observers) ob.observe(data, value.shape);
        }
        watch.watched = [];
      });
    } finally {
      watch.dispose();
    }
    const tried: AutoCalibCandidate[] = [];
    for (let k = 0; k < candidates.length; k++) {
      o.onProgress?.({ site: si + 1, sites: plan.acts.length, node: a.node, candidate: candidates[k] });
      const scale = observers[k].calculateQParams().scale[0];
      const h = new SiteScaleHooks(qm, new Map([...chosen, [a.node, scale]]));
      try {
        tried.push({ observer: candidates[k], scale, l2: l2(await outputs(h)) });
      } finally {
        h.dispose();
      }
    }
    // Ties (e.g. two observers giving the same scale) go to the earlier candidate.
    const best = tried.reduce((b, c) => (c.l2 < b.l2 ? c : b));
    chosen.set(a.node, best.scale);
    choices.push({ site: a.node, observer: best.observer, scale: best.scale, candidates: tried });
  }
  const host: HostParams = {};
  for (const a of plan.acts) {
    const s = chosen.get(a.node)!;
    host[`qsite:${a.node}:qparams`] = scaleQParams(s);
    host[`qsite:${a.node}:running`] = scaleRunning(s, a.quantMin, a.quantMax);
  }
  qm.loadHost(host);
  return { candidates, images: ds.count, choices, seconds: (performance.now() - start) / 1000 };
}
