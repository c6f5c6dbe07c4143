/**
 * AdaRound over a calibrated model (horizon_plugin_pytorch's calibration guide, 7.5.5): layer by layer in
 * topological order, every conv / linear weight not excluded learns whether each value rounds down or up
 * (src/quant/ptq/adaround-layer.ts), with inputs from the quantized model (activations fake-quantized at their
 * calibrated scales, preceding weights already AdaRounded) and targets from the float model; the hard-rounded
 * weights are then written back as float values on the model's own grid (weight-grid.ts), so fake quant, convert,
 * the simulator and the exports all use exactly those integers. A layer whose hard rounding does not lower its
 * reconstruction error on the calibration batches keeps round-to-nearest.
 */
import { Tape } from '../../engine/autograd.ts';
import type { BTensor } from '../../engine/backend.ts';
import type { ImageDataset } from '../../data/dataset.ts';
import { iterateBatches, type Normalization } from '../../data/loader.ts';
import { nodeById } from '../../graph/ir.ts';
import { runGraph } from '../../nn/executor.ts';
import { ParamStore } from '../../nn/params.ts';
import type { QuantizedModel } from '../quantized-model.ts';
import type { AdaRoundConfig } from './adaround-config.ts';
import { optimizeLayer, type LayerBatch, type LayerProblem } from './adaround-layer.ts';
import { weightGrid, writeBack } from './weight-grid.ts';

export interface AdaRoundLayerReport {
  node: string;
  weights: number;
  /** 'adaround', 'nearest' (AdaRound did not lower the error) or 'excluded' (exclude_prefix). */
  rounding: 'adaround' | 'nearest' | 'excluded';
  /** Weights whose integer differs from round-to-nearest in the written-back result. */
  changed: number;
  /** Mean reconstruction error of the layer output on the calibration batches. */
  nearest_error: number | null;
  adaround_error: number | null;
  seconds: number;
}

export interface AdaRoundReport {
  config: AdaRoundConfig;
  images: number;
  layers: AdaRoundLayerReport[];
  seconds: number;
}

export interface AdaRoundProgress {
  layer: number;
  layers: number;
  node: string;
  step: number;
  steps: number;
  recon: number | null;
}

export interface AdaRoundOptions {
  normalize?: Normalization;
  signal?: AbortSignal;
  onProgress?: (p: AdaRoundProgress) => void;
}

const excluded = (id: string, prefixes: readonly string[]) => prefixes.some((p) => p.length > 0 && id.startsWith(p));

export async function adaround(qm: QuantizedModel, ds: ImageDataset, cfg: AdaRoundConfig, o: AdaRoundOptions = {}): Promise<AdaRoundReport> {
  const start = performance.now();
  const { be, plan, store } = qm;
  const g = plan.graph;
  if (qm.state !== 'VALIDATION') throw new Error(`AdaRound needs the calibrated model in VALIDATION state (it is in ${qm.state})`);
  const inputs: { x: Float32Array; shape: number[] }[] = [];
  for (const b of iterateBatches(ds, cfg.batchSize, 0, 0, { shuffle: false, normalize: o.normalize })) {
    inputs.push({ x: b.x.slice(), shape: [...b.shape] });
    if (inputs.length >= cfg.numBatches) break;
  }
  if (!inputs.length) throw new Error('AdaRound: no calibration images');
  const images = inputs.reduce((s, b) => s + b.shape[0], 0);
  const floatHost = await store.toHost();
  const floatStore = new ParamStore(be, g, floatHost);
  const sites = plan.weights;
  const layers: AdaRoundLayerReport[] = [];
  try {
    for (let li = 0; li < sites.length; li++) {
      const site = sites[li];
      const t0 = performance.now();
      const n = nodeById(g, site.node);
      const w = floatHost[site.param];
      if (excluded(n.id, cfg.excludePrefix)) {
        layers.push({ node: n.id, weights: w.length, rounding: 'excluded', changed: 0, nearest_error: null, adaround_error: null, seconds: 0 });
        continue;
      }
      const batches = await cacheLayerData(qm, floatStore, n.id, inputs);
      try {
        const grid = weightGrid(w, site.channels, site.quantMin, site.quantMax, plan.qconfig.march, plan.qconfig.rounding);
        const problem: LayerProblem = {
          be, node: n, weightShape: g.params.find((p) => p.name === site.param)!.shape, grid, batches,
          bias: n.params.bias ? store.param(n.params.bias).value : null,
        };
        const r = await optimizeLayer(problem, w, cfg, {
          signal: o.signal,
          onStep: (s) => o.onProgress?.({ layer: li + 1, layers: sites.length, node: n.id, step: s.step, steps: s.steps, recon: s.recon }),
        });
        const better = r.adaroundError < r.nearestError;
        const q = better ? r.q : grid.nearest;
        const written = writeBack(w, grid, q, site.quantMin, site.quantMax, plan.qconfig.march, plan.qconfig.rounding);
        const v = store.param(site.param);
        be.release(v.value);
        v.value = be.upload(written, v.value.shape);
        layers.push({
          node: n.id, weights: w.length, rounding: better ? 'adaround' : 'nearest', changed: better ? r.changed : 0,
          nearest_error: r.nearestError, adaround_error: r.adaroundError, seconds: (performance.now() - t0) / 1000,
        });
      } finally {
        for (const b of batches) for (const t of [b.x, b.add, b.negTarget]) if (t) be.release(t);
      }
    }
  } finally {
    floatStore.dispose();
  }
  return { config: cfg, images, layers, seconds: (performance.now() - start) / 1000 };
}

/** Per batch: the layer's inputs in the quantized model and -(its output in the float model), kept on the backend. */
export async function cacheLayerData(qm: QuantizedModel, floatStore: ParamStore, nodeId: string,
  inputs: { x: Float32Array; shape: number[] }[]): Promise<LayerBatch[]> {
  const { be, plan } = qm;
  const g = plan.graph;
  const n = nodeById(g, nodeId);
  const [xId, addId] = n.inputs;
  const out: LayerBatch[] = [];
  for (const b of inputs) {
    let x: BTensor, add: BTensor | null = null, negTarget: BTensor;
    const tq = new Tape(be, false, false);
    try {
      const r = runGraph(tq, g, qm.store, tq.input(b.x, b.shape), { ...qm.hooks, keep: (m) => m.id === xId || (n.attrs.addInput === true && m.id === addId) });
      const xv = r.values.get(xId)!;
      x = be.reshape(xv.value, xv.shape);
      if (n.attrs.addInput) {
        const av = r.values.get(addId)!;
        add = be.reshape(av.value, av.shape);
      }
    } finally {
      tq.dispose();
    }
    const tf = new Tape(be, false, false);
    try {
      const r = runGraph(tf, g, floatStore, tf.input(b.x, b.shape), { keep: (m) => m.id === nodeId });
      negTarget = be.scale(r.values.get(nodeId)!.value, -1);
    } finally {
      tf.dispose();
    }
    out.push({ x, add, negTarget });
  }
  await be.sync();
  return out;
}
