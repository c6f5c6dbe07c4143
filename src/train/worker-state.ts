/**
 * What the training worker keeps between jobs: the chosen data (prepared once: YUV conversion, the
 * normalization), the trained float model, and the calibrated / QAT models. Restores them from the
 * project's checkpoints after a reload.
 */
import { withoutLabels, type TrainTestData } from '../data/dataset.ts';
import { rgbToYuv444 } from '../data/transform.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../io/checkpoint.ts';
import { buildModel } from '../models/zoo.ts';
import { decodeQuantCheckpoint } from '../quant/quant-checkpoint.ts';
import type { FloatState, JobData, QuantState } from './quant-jobs.ts';
import type { Graph } from '../graph/ir.ts';
import type { ImportedModel } from './model-job.ts';
import { isImportedName, type ModelChoice } from './model-protocol.ts';
import type { DataChoice, DataPrep } from './quant-protocol.ts';
import { sameScope, type ResultScope } from './protocol.ts';

const describe = (s: ResultScope | undefined): string => (s ? `model ${s.model} on data ${s.data}` : 'an unknown model and data');

/**
 * The second line of defence behind the page's disabled buttons: a job that names a model and data (its scope)
 * runs only on a kept checkpoint of exactly that scope, and only on data loaded under the same key.
 */
export function assertScope(what: string, want: ResultScope | undefined, kept: { scope?: ResultScope } | null, dataKey: string | null): void {
  if (!want) return; // a caller that does not say (the CLI, older pages) keeps the old behaviour
  if (dataKey !== null && dataKey !== want.data) {
    throw new Error(`refused: the ${what} was asked for data ${want.data}, but the worker holds data ${dataKey} (send the data first)`);
  }
  if (kept && !sameScope(kept.scope, want)) {
    throw new Error(`refused: the kept checkpoint belongs to ${describe(kept.scope)}, not to ${describe(want)} that the ${what} was asked for`);
  }
}

export class WorkerState {
  private choice: DataChoice = { kind: 'builtin' };
  /** The page's identity of the chosen data (null when the page did not say). */
  get dataKey(): string | null {
    return this.choice.key ?? null;
  }
  private prep: DataPrep = { yuv: false, normalize: 'pixel/255' };
  private prepared: Promise<JobData> | null = null;
  private builtin: Promise<TrainTestData> | null = null;
  float: FloatState | null = null;
  calib: QuantState | null = null;
  qat: QuantState | null = null;
  /** The imported model set by set-model (null: a zoo model is chosen). */
  imported: ImportedModel | null = null;

  constructor(private readonly loadBuiltin: () => Promise<TrainTestData>) {}

  setData(choice: DataChoice, prep: DataPrep): void {
    this.choice = choice;
    this.prep = prep;
    this.prepared = null;
  }

  /** The data of the next job, prepared once per choice. */
  data(): Promise<JobData> {
    this.prepared ??= (async () => {
      const raw = this.choice.kind === 'custom' ? this.choice.data : await (this.builtin ??= this.loadBuiltin().catch((e) => {
        this.builtin = null;
        throw e;
      }));
      const y = this.prep.yuv ? { train: rgbToYuv444(raw.train), test: rgbToYuv444(raw.test) } : raw;
      const t = this.prep.withoutLabels ? { train: withoutLabels(y.train), test: withoutLabels(y.test) } : y;
      return { train: t.train, test: t.test, normalize: this.prep.normalize };
    })();
    this.prepared.catch(() => { this.prepared = null; });
    return this.prepared;
  }

  setModel(m: ModelChoice): void {
    this.imported = m.kind === 'onnx' ? m : null;
  }

  /** A new float model: the old calibration and QAT no longer apply. */
  setFloat(f: FloatState): Uint8Array {
    this.float = f;
    this.calib = null;
    this.qat = null;
    const shapes = Object.fromEntries(f.graph.params.map((p) => [p.name, p.shape]));
    return encodeCheckpoint({
      model: f.model, stage: 'float', params: f.host, shapes,
      // An imported model's graph travels with its weights (it cannot be rebuilt from a name).
      meta: { inputShape: f.graph.inputShape, numClasses: f.graph.numClasses, ...(isImportedName(f.model) ? { graph: f.graph } : {}),
        ...(f.scope ? { scope: f.scope } : {}) },
    });
  }

  /** `stamp`: the scope of checkpoints saved before they carried one (the page knows what they belong to). */
  restore(float: Uint8Array | null, calib: Uint8Array | null, qat: Uint8Array | null, stamp?: ResultScope): void {
    this.float = null;
    this.calib = null;
    this.qat = null;
    if (float) {
      const c = decodeCheckpoint(float, 'float checkpoint');
      const m = c.meta as { inputShape?: number[]; numClasses?: number; graph?: Graph; scope?: ResultScope };
      const graph = m.graph ?? buildModel(c.model, { inputShape: m.inputShape, numClasses: m.numClasses });
      const scope = m.scope ?? stamp;
      this.float = { model: c.model, graph, host: c.params, ...(scope ? { scope } : {}) };
    }
    for (const [bytes, stage] of [[calib, 'calib'], [qat, 'qat']] as const) {
      if (!bytes) continue;
      const q = decodeQuantCheckpoint(bytes, `${stage} checkpoint`);
      const scope = (q.meta as { scope?: ResultScope }).scope ?? stamp;
      if (this.float && !(sameScope(this.float.scope, scope) || (!this.float.scope && !scope))) throw new Error(`the ${stage} checkpoint belongs to ${describe(scope)}, its float checkpoint to ${describe(this.float.scope)}`);
      this[stage] = { model: q.model, stage, graph: q.graph, params: q.params, qsites: q.qsites, qconfig: q.qconfig, ...(scope ? { scope } : {}) };
    }
  }
}
