/**
 * The deployment check's comparison of every model output (issue 14): the fixed-point simulator's dequantized output
 * against the fake-quant model's, per output, of any shape:
 *   cosine         mean over images of the cosine of the two output vectors of that image (SimilarityAcc)
 *   sqnr_db        10·log10(Σ ref² / Σ (sim − ref)²) over all images and elements (Infinity when equal)
 *   max_lsb        max |sim − ref| / lsb, lsb = the output's scale (int8/int16), or x_scale·w_scale[o] per channel for
 *                  an int32 high-precision output (a conv's accumulator dequantized)
 *   top1_agreement share of images (%) whose argmax agrees, for outputs that are class scores (per image [K], K > 1);
 *                  null for the others (feature maps, boxes, masks, embeddings)
 */
import { SimilarityAcc } from './output-similarity.ts';

export interface OutputStats {
  /** The output's user-facing name (outputNames: 'logits', or the file's output name). */
  name: string;
  /** Its DeQuantStub's id. */
  id: string;
  /** Per-image shape. */
  shape: number[];
  dtype: string;
  elements: number;
  cosine: number;
  /** Infinity when the simulator equals the fake-quant model exactly. */
  sqnr_db: number;
  max_lsb: number;
  /** %, for class scores only. */
  top1_agreement: number | null;
}

/** An output's integer domain: its dtype and scales (one per tensor, or per channel for int32). */
export interface OutputDomain { name: string; id: string; shape: number[]; dtype: string; scales: number[] }

/** Class scores: one vector of K > 1 values per image. */
export const isClassScores = (shape: readonly number[]): boolean => shape.length === 1 && shape[0] > 1;

export class OutputCompare {
  private readonly sim: SimilarityAcc;
  private maxLsb = 0;
  private agree = 0;
  private elements = 0;

  constructor(readonly d: OutputDomain) {
    this.sim = new SimilarityAcc(d.id);
  }

  /** `ref` the fake-quant model's output, `sim` the simulator's, n images. */
  add(ref: Float32Array, sim: Float32Array, n: number): void {
    if (ref.length !== sim.length) throw new Error(`deployment check: output ${this.d.name} has ${ref.length} fake-quant values vs ${sim.length} simulator values`);
    this.sim.add(ref, sim, n);
    const C = this.d.scales.length;
    const inner = C === 1 ? ref.length : ref.length / n / C;
    for (let i = 0; i < ref.length; i++) {
      const lsb = C === 1 ? this.d.scales[0] : this.d.scales[Math.floor(i / inner) % C];
      const e = Math.abs(sim[i] - ref[i]) / lsb;
      if (e > this.maxLsb || e !== e) this.maxLsb = e !== e ? Infinity : e;
    }
    if (isClassScores(this.d.shape)) {
      const K = this.d.shape[0];
      for (let b = 0; b < n; b++) if (argmax(ref, b * K, K) === argmax(sim, b * K, K)) this.agree++;
    }
    this.elements += ref.length;
  }

  result(): OutputStats {
    const r = this.sim.result();
    return {
      name: this.d.name, id: this.d.id, shape: [...this.d.shape], dtype: this.d.dtype, elements: this.elements,
      cosine: r.cosine, sqnr_db: r.sqnr_db, max_lsb: this.maxLsb,
      top1_agreement: isClassScores(this.d.shape) ? (100 * this.agree) / Math.max(1, r.images) : null,
    };
  }
}

function argmax(a: Float32Array, off: number, K: number): number {
  let best = 0;
  for (let k = 1; k < K; k++) if (a[off + k] > a[off + best]) best = k;
  return best;
}

/** The report.json form (sqnr_db null when identical). */
export function outputsForReport(outs: OutputStats[]): (Omit<OutputStats, 'sqnr_db'> & { sqnr_db: number | null })[] {
  return outs.map((o) => ({ ...o, sqnr_db: Number.isFinite(o.sqnr_db) ? o.sqnr_db : null }));
}
