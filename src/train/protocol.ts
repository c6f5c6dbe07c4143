/**
 * The typed message protocol between the page and the training worker (training.worker.ts).
 *
 * Page -> worker (TrainRequest):
 *   init {prefer}          pick the backend: 'auto' = WebGPU when the browser has it, else the CPU reference;
 *                          'cpu' = the CPU reference. Sent once, first; the worker answers `ready`.
 *   start {config}         train a zoo model on the built-in Fashion-MNIST (one run at a time).
 *   pause / resume         hold / continue between two optimizer steps.
 *   cancel                 stop at the next step boundary; the worker answers `cancelled`.
 *
 * Worker -> page (WorkerMessage):
 *   ready {backend, adapter, reason?}   reason says why WebGPU is not used (only for the CPU backend)
 *   started {totalSteps, trainImages, testImages}
 *   progress {…TrainProgress}           after every optimizer step
 *   paused {step} / resumed {step}       the worker actually holds / continues (pause takes effect
 *                                       between steps, so a step in flight still reports progress)
 *   epoch {epoch, acc1, acc5, loss}     after each epoch's evaluation on the test images
 *   done {seconds, imagesPerSecond, steps}
 *   cancelled {step}
 *   error {message}
 *
 * Data and quantization (set-data, calibrate, qat, restore -> data-ready, checkpoint, quant-*): quant-protocol.ts.
 * The model (set-model: a zoo name or an imported graph + weights): model-protocol.ts.
 *
 * Nothing here imports the engine or the DOM, so it is usable from the page, the worker and tests.
 */
import { QUANT_MESSAGE_TYPES, QUANT_REQUEST_TYPES, type QuantMessage, type QuantRequest } from './quant-protocol.ts';
import { MODEL_REQUEST_TYPES, type ModelRequest } from './model-protocol.ts';
import { ANALYSIS_MESSAGE_TYPES, ANALYSIS_REQUEST_TYPES, type AnalysisMessage, type AnalysisRequest } from './analysis-protocol.ts';

export const OPTIMIZERS = ['adam', 'adamw', 'sgd'] as const;
export type OptimizerChoice = (typeof OPTIMIZERS)[number];
export const SCHEDULES = ['onecycle', 'cosine', 'step', 'constant'] as const;
export type ScheduleChoice = (typeof SCHEDULES)[number];
export type BackendPreference = 'auto' | 'cpu';

/**
 * Which model and data a result belongs to: the model's identity (a zoo name, or an imported file's content hash
 * with its input preprocessing) and the data's (the built-in set, or a dropped set's content hash, with the
 * preprocessing the worker applies). Every checkpoint the worker keeps carries one; a job whose config names
 * another is refused, so nothing runs on something other than what the page shows.
 */
export interface ResultScope { model: string; data: string }

export const sameScope = (a: ResultScope | null | undefined, b: ResultScope | null | undefined): boolean =>
  !!a && !!b && a.model === b.model && a.data === b.data;

export interface TrainJobConfig {
  /** A zoo model name (src/models/zoo.ts MODEL_NAMES), or the imported model's `onnx:<file>` (model-protocol.ts). */
  model: string;
  /** 0: no training, just evaluate the model (an imported one) on the test images. */
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: OptimizerChoice;
  schedule: ScheduleChoice;
  seed: number;
  /** Images drawn from the loaded train split (a seed-0 random subset, like the CLI's --subset). */
  trainImages: number;
  /** Images drawn from the loaded test split (a seed-0 random subset, like --test-subset). */
  testImages: number;
  /** 'evaluate': no training; evaluate the kept float model of this scope (else the imported model's own weights). */
  mode?: 'train' | 'evaluate';
  /** The model and data the page shows (the result is stamped with it; the worker refuses other data). */
  scope?: ResultScope;
}

export type TrainRequest =
  | { type: 'init'; prefer: BackendPreference }
  | { type: 'start'; config: TrainJobConfig }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'cancel' }
  | QuantRequest
  | ModelRequest
  | AnalysisRequest;

export interface ProgressInfo {
  epoch: number;
  step: number;
  totalSteps: number;
  imagesDone: number;
  totalImages: number;
  /** NaN when the loss of this step was not read back. */
  loss: number;
  lr: number;
  imagesPerSecond: number;
  etaSeconds: number;
}

export type WorkerMessage =
  | { type: 'ready'; backend: 'webgpu' | 'cpu'; adapter: string; reason?: string }
  | { type: 'started'; totalSteps: number; trainImages: number; testImages: number }
  | ({ type: 'progress' } & ProgressInfo)
  | { type: 'paused'; step: number }
  | { type: 'resumed'; step: number }
  | { type: 'epoch'; epoch: number; acc1: number; acc5: number; loss: number }
  | { type: 'done'; seconds: number; imagesPerSecond: number; steps: number }
  | { type: 'cancelled'; step: number }
  | { type: 'error'; message: string }
  | QuantMessage
  | AnalysisMessage;

export type WorkerMessageType = WorkerMessage['type'];

/** Limits the page enforces (the built-in split has 60 000 train and 10 000 test images). */
export const LIMITS = {
  epochs: [0, 100],
  batchSize: [1, 1024],
  lr: [1e-6, 10],
  seed: [0, 2 ** 31 - 1],
  trainImages: [1, 60_000],
  testImages: [1, 10_000],
} as const satisfies Record<string, readonly [number, number]>;

const INTEGER_FIELDS = ['epochs', 'batchSize', 'seed', 'trainImages', 'testImages'] as const;

/** Problems with a config, keyed by field (empty when it is valid). */
export function validateConfig(c: TrainJobConfig, modelNames: readonly string[]): Partial<Record<keyof TrainJobConfig, string>> {
  const errors: Partial<Record<keyof TrainJobConfig, string>> = {};
  if (!modelNames.includes(c.model)) errors.model = `unknown model "${c.model}"`;
  for (const k of Object.keys(LIMITS) as (keyof typeof LIMITS)[]) {
    const v = c[k];
    const [lo, hi] = LIMITS[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) errors[k] = 'must be a number';
    else if ((INTEGER_FIELDS as readonly string[]).includes(k) && !Number.isInteger(v)) errors[k] = 'must be a whole number';
    else if (v < lo || v > hi) errors[k] = `must be between ${lo} and ${hi}`;
  }
  if (!(OPTIMIZERS as readonly string[]).includes(c.optimizer)) errors.optimizer = `unknown optimizer "${c.optimizer}"`;
  if (!(SCHEDULES as readonly string[]).includes(c.schedule)) errors.schedule = `unknown schedule "${c.schedule}"`;
  return errors;
}

const MESSAGE_TYPES: ReadonlySet<string> = new Set<WorkerMessageType>([
  'ready', 'started', 'progress', 'paused', 'resumed', 'epoch', 'done', 'cancelled', 'error', ...QUANT_MESSAGE_TYPES, ...ANALYSIS_MESSAGE_TYPES,
]);

/** A structural check of what arrives from the worker (guards against foreign messages). */
export function isWorkerMessage(x: unknown): x is WorkerMessage {
  return typeof x === 'object' && x !== null && MESSAGE_TYPES.has((x as { type?: unknown }).type as string);
}

const REQUEST_TYPES: ReadonlySet<string> = new Set<TrainRequest['type']>(['init', 'start', 'pause', 'resume', 'cancel', ...QUANT_REQUEST_TYPES, ...MODEL_REQUEST_TYPES, ...ANALYSIS_REQUEST_TYPES]);

export function isTrainRequest(x: unknown): x is TrainRequest {
  return typeof x === 'object' && x !== null && REQUEST_TYPES.has((x as { type?: unknown }).type as string);
}

/** The text of an error of any shape, for `error` messages. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}
