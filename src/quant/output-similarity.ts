/**
 * How close a quantized (fake-quant) model's outputs are to the float model's on the same images, per output:
 * the measure of a model without labels (and a second one beside accuracy for a classifier).
 *   cosine   mean over images of the cosine of the two output vectors of that image
 *   sqnr_db  10·log10(Σ float² / Σ (quant − float)²) over all images and elements (Infinity when equal)
 * Every output of the graph (graphOutputs), in order. The float model is the teacher of distillation QAT (src/train/distill.ts): the same graph run without the
 * quantization hooks on the float weights.
 */
import type { Backend } from '../engine/backend.ts';
import { Tape } from '../engine/autograd.ts';
import type { ImageDataset } from '../data/dataset.ts';
import { iterateBatches, type Normalization } from '../data/loader.ts';
import { graphOutputs, type Graph } from '../graph/ir.ts';
import { runGraph, type Hooks } from '../nn/executor.ts';
import type { ParamStore } from '../nn/params.ts';

export interface OutputSimilarity {
  /** The output's value id in the graph. */
  output: string;
  /** Its shape per image (without the batch). */
  shape: number[];
  cosine: number;
  /** Infinity when the outputs are identical. */
  sqnr_db: number;
  images: number;
}

/** A model run: its graph, weights and (for the quantized one) the fake-quant hooks. */
export interface ModelRun { graph: Graph; store: ParamStore; hooks?: Hooks }

export interface SimilarityOptions {
  batchSize?: number;
  normalize?: Normalization;
  signal?: AbortSignal;
}

/** Running sums of one output's comparison. */
export class SimilarityAcc {
  private cosSum = 0;
  private refSq = 0;
  private errSq = 0;
  images = 0;
  shape: number[] = [];

  constructor(readonly output: string) {}

  /** `ref` (float) and `q` (quantized): n images of `per` values each. */
  add(ref: Float32Array, q: Float32Array, n: number): void {
    if (ref.length !== q.length) throw new Error(`output ${this.output}: ${ref.length} float values vs ${q.length} quantized`);
    const per = ref.length / n;
    for (let i = 0; i < n; i++) {
      let dot = 0, rr = 0, qq = 0;
      for (let j = i * per; j < (i + 1) * per; j++) {
        const r = ref[j], v = q[j];
        dot += r * v;
        rr += r * r;
        qq += v * v;
        this.errSq += (v - r) * (v - r);
      }
      this.refSq += rr;
      this.cosSum += rr === 0 && qq === 0 ? 1 : dot / Math.sqrt(rr * qq || Number.MIN_VALUE);
    }
    this.images += n;
  }

  result(): OutputSimilarity {
    return {
      output: this.output, shape: this.shape, images: this.images,
      cosine: this.cosSum / Math.max(1, this.images),
      sqnr_db: this.errSq === 0 ? Infinity : 10 * Math.log10(this.refSq / this.errSq),
    };
  }
}

/** The quantized model's outputs against the float model's on `ds` (no labels needed). */
export async function outputSimilarity(be: Backend, quant: ModelRun, float: ModelRun, ds: ImageDataset,
  o: SimilarityOptions = {}): Promise<OutputSimilarity[]> {
  const accs = graphOutputs(quant.graph).map((id) => new SimilarityAcc(id));
  for (const b of iterateBatches(ds, o.batchSize ?? 128, 0, 0, { shuffle: false, normalize: o.normalize })) {
    if (o.signal?.aborted) throw new DOMException('evaluation cancelled', 'AbortError');
    const tape = new Tape(be, false, false);
    try {
      const f = runGraph(tape, float.graph, float.store, tape.input(b.x, b.shape), { ...float.hooks }).outputs;
      const q = runGraph(tape, quant.graph, quant.store, tape.input(b.x, b.shape), { ...quant.hooks }).outputs;
      for (const [k, acc] of accs.entries()) {
        acc.shape = q[k].shape.slice(1);
        acc.add(await be.read(f[k].value), await be.read(q[k].value), b.n);
      }
    } finally {
      tape.dispose();
    }
  }
  return accs.map((a) => a.result());
}

/** The report.json form (sqnr_db null when identical, as the deployment check's layers). */
export function similarityForReport(s: OutputSimilarity[]): { output: string; shape: number[]; cosine: number; sqnr_db: number | null; images: number }[] {
  return s.map((x) => ({ ...x, sqnr_db: Number.isFinite(x.sqnr_db) ? x.sqnr_db : null }));
}

/** One line per output, for logs. */
export function similarityText(s: OutputSimilarity[]): string {
  return s.map((x) => `${x.output} [${x.shape.join('x')}]: cosine ${x.cosine.toFixed(5)}, SQNR ${Number.isFinite(x.sqnr_db) ? x.sqnr_db.toFixed(2) : 'inf'} dB`).join('; ');
}
