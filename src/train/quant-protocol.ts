/**
 * The training worker's data and quantization messages (part of protocol.ts's unions).
 *
 * Page -> worker:
 *   set-data {data, prep}   train / calibrate / evaluate on this data from now on: the built-in Fashion-MNIST
 *                           or a dropped data set (its pixel buffers are copied to the worker); prep = RGB→YUV444
 *                           and the normalization. Answered by `data-ready` (or `error`).
 *   calibrate {config}      fuse the kept float weights, prepare(qconfig), run the observers on `batches`
 *                           batches of the loaded train data, evaluate; histograms of every activation site.
 *   qat {config}            fine-tune with fake quant from the calibration (or the float weights), evaluate per epoch;
 *                           with config.distill (always without labels) the float model teaches (distill.ts).
 *   restore {float, calib, qat, scope?}  checkpoints (encoded bytes) of the model and data the page now shows (null:
 *                           none, the worker starts clean); scope stamps checkpoints saved before they carried one.
 *   import-torch {files, testImages}  a PyTorch QAT result (the folder train_qat.py writes) becomes the kept QAT
 *                           model, if it is of the kept float model's fused graph; evaluated like a QAT run.
 *   deploy-check {config}   the deployment check of the QAT (else calibrated) model: convert it to the integer model,
 *                           write the model file and the ONNX QDQ export, estimate the performance per march, then
 *                           run `images` images of the chosen split through the fake-quant model (VALIDATION) here
 *                           and through the fixed-point simulator, which runs in its own worker: for each batch the
 *                           worker asks the page (`deploy-sim-request`), the page runs it with SimClient and answers
 *                           with `deploy-sim-result` (or `deploy-sim-error`); `cancel` stops it.
 * Worker -> page:
 *   data-ready {…}          the data the next job uses
 *   checkpoint {stage, bytes}  after each float / calib / qat run (the page persists it)
 *   quant-started / quant-progress / quant-epoch / quant-done / quant-cancelled / quant-error  (calib and qat jobs)
 *   deploy-started {…artifacts}   the model file, the ONNX bytes (or why not), the performance per march
 *   deploy-sim-request {batch, x, n, dump}   one batch for the simulator (the page answers, see above)
 *   deploy-progress {images, totalImages}    after each compared batch
 *   deploy-done {result, samples} / deploy-cancelled / deploy-error {message}   (deploy-check jobs)
 */
import type { AccumulatorReport } from '../quant/accumulator-bound.ts';
import type { TrainTestData } from '../data/dataset.ts';
import type { March } from '../qmath/march.ts';
import type { NodeOverride, WeightBits } from '../quant/qconfig.ts';
import type { AdaRoundConfig } from '../quant/ptq/adaround-config.ts';
import type { AdaRoundReport } from '../quant/ptq/adaround.ts';
import type { AutoCalibCriterion, AutoCalibReport } from '../quant/ptq/auto-calib.ts';
import type { DeployCheckResult } from '../quant/deploy-check.ts';
import type { TorchImportFiles } from '../io/torch/import-checkpoint.ts';
import type { FrameRange } from '../perf/frame-range.ts';
import type { PerfEstimate } from '../perf/estimate.ts';
import type { ResultScope } from './protocol.ts';
import type { DistillLoss } from './distill.ts';
import type { OutputSimilarity } from '../quant/output-similarity.ts';
import type { PredictionSamples } from './prediction-samples.ts';

export type QuantStage = 'calib' | 'qat';
export type CheckpointStage = 'float' | QuantStage;

export type Normalize = 'pixel/255' | { mean: number[]; std: number[] };
export interface DataPrep {
  /** Convert RGB to full-swing YUV444 (U, V + 128) before the normalization. */
  yuv: boolean;
  normalize: Normalize;
  /** Use the images without their labels (withoutLabels of dataset.ts). */
  withoutLabels?: boolean;
}

/** `key`: the data's identity as the page computes it (ResultScope.data), kept by the worker to refuse jobs on other data. */
export type DataChoice = { kind: 'builtin'; key?: string } | { kind: 'custom'; data: TrainTestData; key?: string };

export interface QuantSettings {
  march: March;
  /** A qconfig template name (src/quant/qconfig.ts QCONFIG_TEMPLATES). */
  template: string;
  /** Activation observer; null: the template's. */
  observer: string | null;
  overrides: NodeOverride[];
  /** Fixed QuantStub scale (1/128 for centered YUV); null: observed. */
  quantStubScale: number | null;
  /** Weight width (default 8; 4 = per-channel int4). */
  weightBits?: WeightBits;
}

/** Which PTQ algorithm a calibration's progress counts (absent: the observers' batches). */
export type PtqPhase = 'auto-calib' | 'adaround';

/** The PTQ algorithms a calibration may run after the observers (src/quant/ptq), with their settings. */
export interface PtqJobSettings {
  /** Automatic calibration over these candidate observers, minimising `criterion`, with `gate` (absent: the defaults); null: off. */
  autoCalib: { candidates: string[]; criterion?: AutoCalibCriterion; gate?: number } | null;
  /** AdaRound (unset fields: the defaults); null: off. */
  adaround: Partial<AdaRoundConfig> | null;
}

/** What the PTQ algorithms of a calibration did (kept with the calibration result and in its checkpoint). */
export interface PtqResult {
  autoCalib: AutoCalibReport | null;
  adaround: (AdaRoundReport & { nearestAcc1: number }) | null;
}

export interface CalibJobConfig {
  quant: QuantSettings;
  /** The model and data the page shows: the kept float checkpoint must belong to it. */
  scope?: ResultScope;
  batches: number;
  batchSize: number;
  testImages: number;
  ptq?: PtqJobSettings;
}

export interface QatJobConfig {
  quant: QuantSettings;
  scope?: ResultScope;
  /** Distillation QAT (src/train/distill.ts): the float model teaches; required for data without labels. */
  distill?: { loss: DistillLoss; featureWeight: number } | null;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: 'sgd' | 'adam' | 'adamw';
  seed: number;
  trainImages: number;
  testImages: number;
  /** Training images whose activations the QAT model's histograms show (calibration's count: the same images); 256 if absent. */
  histogramImages?: number;
}

/** Histogram of one activation site's values seen in calibration, and the clip range its scale gives. */
export interface ActHistogram {
  node: string;
  lo: number;
  hi: number;
  counts: number[];
  min: number;
  max: number;
  clip: [number, number];
}

export interface QuantScales { activations: Record<string, number>; weights: Record<string, number[]> }

/** Which model the deployment check converts: 'auto' = QAT when there is one, else the calibration. */
export type DeploySource = 'auto' | QuantStage;

export interface DeployJobConfig {
  source: DeploySource;
  scope?: ResultScope;
  /** The split of the loaded data the check runs on. */
  split: 'test' | 'train';
  /** Images of that split (a seed-0 random subset when fewer than the split has). */
  images: number;
  batchSize: number;
}

/**
 * The performance estimate of one march, without the per-layer rows; `range` adds the per-frame costs
 * (src/perf/frame-range.ts). It is absent in checks saved before it existed.
 */
export type DeployPerf = Omit<PerfEstimate, 'layers'> & { range?: FrameRange };

/** What deploy-started carries: the deployable files and the estimate (computed before the comparison starts). */
export interface DeployArtifacts {
  source: QuantStage;
  model: string;
  /** The march the integer arithmetic follows (the checkpoint's). */
  march: March;
  /** model.qsbin bytes (src/sim/model-file.ts). */
  modelFile: Uint8Array;
  /** ONNX QDQ bytes (src/io/onnx/export-qdq.ts); null with onnxError when the export failed. */
  onnx: Uint8Array | null;
  onnxError: string | null;
  /** PyTorch export as a .zip (src/io/torch/export-package.ts); null with torchError when it failed (absent in
   *  projects saved before it existed). */
  torchZip?: Uint8Array | null;
  torchError?: string | null;
  /** The estimate for every march (the checkpoint's march first). */
  perf: DeployPerf[];
  intLayers: number;
  /** Accumulators that can leave int32 and saturated biases (src/quant/accumulator-bound.ts, report form). */
  accumulators: AccumulatorReport;
  /** Values compared per layer. */
  sites: number;
  totalImages: number;
}

/** One integer value of a simulator dump (as src/sim/protocol.ts SimDumpTensor). */
export interface DeployDumpTensor { data: Int8Array | Uint8Array | Int16Array | Int32Array; shape: number[] }

export type QuantRequest =
  | { type: 'set-data'; data: DataChoice; prep: DataPrep }
  | { type: 'calibrate'; config: CalibJobConfig }
  | { type: 'qat'; config: QatJobConfig }
  | { type: 'import-torch'; files: TorchImportFiles; testImages: number }
  | { type: 'restore'; float: Uint8Array | null; calib: Uint8Array | null; qat: Uint8Array | null; scope?: ResultScope }
  | { type: 'deploy-check'; config: DeployJobConfig }
  /** output: the (first) output; outputs: every output of a model with several. */
  | { type: 'deploy-sim-result'; batch: number; output: Float32Array; outputs?: Float32Array[]; dumps: Record<string, DeployDumpTensor> }
  | { type: 'deploy-sim-error'; batch: number; message: string };

export type QuantMessage =
  | { type: 'data-ready'; name: string; trainImages: number; testImages: number; shape: number[]; numClasses: number }
  | { type: 'checkpoint'; stage: CheckpointStage; bytes: Uint8Array; scope?: ResultScope }
  | { type: 'quant-started'; stage: QuantStage; total: number; acts: number; weights: number }
  | { type: 'quant-progress'; stage: QuantStage; done: number; total: number; loss: number; etaSeconds: number; phase?: PtqPhase }
  | { type: 'quant-epoch'; stage: QuantStage; epoch: number; acc1: number; acc5: number; loss: number; similarity?: OutputSimilarity[] }
  | { type: 'quant-done'; stage: QuantStage; acc1: number; acc5: number; seconds: number; scales: QuantScales; histograms: ActHistogram[]; ptq?: PtqResult;
      /** The output similarity to the float model on the test images (acc NaN when the data has no labels). */
      similarity?: OutputSimilarity[] }
  | { type: 'quant-cancelled'; stage: QuantStage }
  | { type: 'quant-error'; stage: QuantStage; message: string }
  | ({ type: 'deploy-started' } & DeployArtifacts)
  | { type: 'deploy-sim-request'; batch: number; x: Float32Array; n: number; dump: string[] }
  | { type: 'deploy-progress'; images: number; totalImages: number }
  | { type: 'deploy-done'; result: DeployCheckResult; samples?: PredictionSamples }
  | { type: 'deploy-cancelled' }
  | { type: 'deploy-error'; message: string };

export const QUANT_MESSAGE_TYPES = [
  'data-ready', 'checkpoint', 'quant-started', 'quant-progress', 'quant-epoch', 'quant-done', 'quant-cancelled', 'quant-error',
  'deploy-started', 'deploy-sim-request', 'deploy-progress', 'deploy-done', 'deploy-cancelled', 'deploy-error',
] as const satisfies readonly QuantMessage['type'][];
export const QUANT_REQUEST_TYPES = ['set-data', 'calibrate', 'qat', 'import-torch', 'restore', 'deploy-check', 'deploy-sim-result', 'deploy-sim-error'] as const satisfies readonly QuantRequest['type'][];

export const CALIB_LIMITS = { batches: [1, 1000], batchSize: [1, 1024] } as const;
export const DEPLOY_LIMITS = { images: [1, 60_000], batchSize: [1, 256] } as const;
