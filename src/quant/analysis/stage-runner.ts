/**
 * One stage of the workflow as the analysis sees it: something that maps a batch of images to its outputs and, on
 * request, to the values at named layers (float, calibrated or QAT on the engine; the fixed-point simulator with
 * its integer dumps dequantized). Also the batches of a data set, normalized once and reused by every pass.
 */
import { Tape } from '../../engine/autograd.ts';
import type { Backend } from '../../engine/backend.ts';
import type { ImageDataset } from '../../data/dataset.ts';
import { iterateBatches, type Batch, type Normalization } from '../../data/loader.ts';
import type { Graph } from '../../graph/ir.ts';
import { runGraph, type Hooks } from '../../nn/executor.ts';
import type { ParamStore } from '../../nn/params.ts';
import type { IntModel } from '../convert.ts';
import type { SimulateFn } from '../deploy-check.ts';
import type { AnalysedOutput } from './outputs.ts';

export const STAGE_NAMES = ['float', 'calib', 'qat', 'sim'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

export interface StageOutput {
  /** The (first) output. */
  logits: Float32Array;
  /** Every output in the model's order (outputs[0] = logits), batch-major; absent: the one output. */
  outputs?: Float32Array[];
  /** Float values (dequantized for the simulator) of the requested layers, batch-major NCHW. */
  values: Map<string, Float32Array>;
}

/** The integer grid of a quantized value: per-tensor scale and range (clip statistics). */
export interface SiteGrid {
  scale: number;
  quantMin: number;
  quantMax: number;
}

export interface StageRunner {
  name: StageName;
  /** Grid of each quantized activation site; empty for the float model. */
  grids: Map<string, SiteGrid>;
  run(b: Batch, keep: readonly string[]): Promise<StageOutput>;
}

/** A model on the engine: the float graph (no hooks) or the fake-quant model (its hooks, VALIDATION state). */
export function engineStage(name: StageName, be: Backend, graph: Graph, store: ParamStore, hooks: Hooks | undefined, grids = new Map<string, SiteGrid>()): StageRunner {
  return {
    name, grids,
    async run(b, keep) {
      const want = new Set(keep);
      const tape = new Tape(be, false, false);
      try {
        const { outputs, values } = runGraph(tape, graph, store, tape.input(b.x, b.shape), { ...hooks, keep: (n) => want.has(n.id) });
        const outs: Float32Array[] = [];
        for (const v of outputs) outs.push(await be.read(v.value));
        const out: StageOutput = { logits: outs[0], outputs: outs, values: new Map() };
        for (const [id, v] of values) out.values.set(id, await be.read(v.value));
        return out;
      } finally {
        tape.dispose();
      }
    },
  };
}

/** The fixed-point simulator: integer dumps times their scale (per channel for int32 outputs). */
export function simStage(im: IntModel, simulate: SimulateFn): StageRunner {
  const grids = new Map<string, SiteGrid>();
  for (const [id, v] of Object.entries(im.values)) {
    if (v.scales.length !== 1 || v.dtype === 'int32') continue;
    const [quantMin, quantMax] = v.dtype === 'int16' ? [-32768, 32767] : v.dtype === 'uint8' ? [0, 255] : [-128, 127];
    grids.set(id, { scale: v.scales[0], quantMin, quantMax });
  }
  return {
    name: 'sim', grids,
    async run(b, keep) {
      const dumpIds = keep.filter((id) => im.values[id]);
      const r = await simulate(b.x, b.n, dumpIds);
      const dumps = r.dumps instanceof Map ? r.dumps : new Map(Object.entries(r.dumps));
      const values = new Map<string, Float32Array>();
      for (const id of dumpIds) {
        const d = dumps.get(id);
        if (!d) throw new Error(`simulator: no dump of layer ${id}`);
        const scales = im.values[id].scales;
        const C = scales.length;
        const inner = C === 1 ? d.data.length : d.data.length / b.n / C;
        const out = new Float32Array(d.data.length);
        for (let i = 0; i < out.length; i++) out[i] = Math.fround(d.data[i] * (C === 1 ? scales[0] : scales[Math.floor(i / inner) % C]));
        values.set(id, out);
      }
      const outputs = (r.outputs ?? [r.output]).map((o) => (o instanceof Float32Array ? o : o.output));
      return { logits: outputs[0], outputs, values };
    },
  };
}

/** The batches of `ds` in order, normalized once (no shuffle, no augmentation). */
export function collectBatches(ds: ImageDataset, batchSize: number, normalize?: Normalization): Batch[] {
  return [...iterateBatches(ds, batchSize, 0, 0, { shuffle: false, normalize })];
}

export interface PassOptions {
  signal?: AbortSignal;
  /** Called after every batch of every pass. */
  onBatch?: () => void;
}

/** Every output of a stage's result, in order. */
export const outputsOf = (r: StageOutput): Float32Array[] => r.outputs ?? [r.logits];

/** Every output (per output, all images concatenated) of all batches through `run` (one pass over the data). */
export async function passOutputs(batches: readonly Batch[], outs: readonly AnalysedOutput[], run: (b: Batch) => Promise<Float32Array[]>, o: PassOptions = {}): Promise<Float32Array[]> {
  const total = batches.reduce((s, b) => s + b.n, 0);
  const got = outs.map((x) => new Float32Array(total * x.size));
  let at = 0;
  for (const b of batches) {
    if (o.signal?.aborted) throw new DOMException('analysis cancelled', 'AbortError');
    const l = await run(b);
    if (l.length !== outs.length) throw new Error(`analysis: ${l.length} outputs, the model has ${outs.length}`);
    outs.forEach((x, k) => got[k].set(l[k].subarray(0, b.n * x.size), at * x.size));
    at += b.n;
    o.onBatch?.();
  }
  return got;
}

/** Engine outputs of one batch with the given hooks, in the model's order. */
export async function engineOutputs(be: Backend, graph: Graph, store: ParamStore, hooks: Hooks | undefined, b: Batch): Promise<Float32Array[]> {
  const tape = new Tape(be, false, false);
  try {
    const { outputs } = runGraph(tape, graph, store, tape.input(b.x, b.shape), { ...hooks });
    const got: Float32Array[] = [];
    for (const v of outputs) got.push(await be.read(v.value));
    return got;
  } finally {
    tape.dispose();
  }
}
