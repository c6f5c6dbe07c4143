/**
 * One stage of the workflow as the analysis sees it: something that maps a batch of images to logits and, on
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

export const STAGE_NAMES = ['float', 'calib', 'qat', 'sim'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

export interface StageOutput {
  logits: Float32Array;
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
        const { output, values } = runGraph(tape, graph, store, tape.input(b.x, b.shape), { ...hooks, keep: (n) => want.has(n.id) });
        const out: StageOutput = { logits: await be.read(output.value), values: new Map() };
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
      return { logits: r.output, values };
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

/** Logits of all batches through `run` (one pass over the data). */
export async function logitsOf(batches: readonly Batch[], k: number, run: (b: Batch) => Promise<Float32Array>, o: PassOptions = {}): Promise<Float32Array> {
  const total = batches.reduce((s, b) => s + b.n, 0);
  const out = new Float32Array(total * k);
  let at = 0;
  for (const b of batches) {
    if (o.signal?.aborted) throw new DOMException('analysis cancelled', 'AbortError');
    const l = await run(b);
    out.set(l.subarray(0, b.n * k), at * k);
    at += b.n;
    o.onBatch?.();
  }
  return out;
}

/** Engine logits of one batch with the given hooks. */
export async function engineLogits(be: Backend, graph: Graph, store: ParamStore, hooks: Hooks | undefined, b: Batch): Promise<Float32Array> {
  const tape = new Tape(be, false, false);
  try {
    const { output } = runGraph(tape, graph, store, tape.input(b.x, b.shape), { ...hooks });
    return await be.read(output.value);
  } finally {
    tape.dispose();
  }
}
