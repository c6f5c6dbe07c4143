/**
 * The options every stage shares (a stable interface, see the README):
 *   --model NAME | --onnx FILE   --data fashion-mnist|idx:DIR|cifar10:DIR|folder:DIR|zip:FILE   [--resize HxW]
 *   [--subset N] [--test-subset N] [--unlabelled]
 *   --epochs E --batch-size B --lr X [--optimizer adam|adamw|sgd] [--schedule onecycle|cosine|step|constant]
 *   --seed S --backend webgpu|cpu [--gpu auto|gles|vulkan] --model-path DIR
 *   [--input-scale S] [--input-mean M[,M..]] [--input-std S[,S..]]   x = (pixel * scale - mean) / std
 *   (default pixel/255; with --onnx, the file's metadata input_scale/input_mean/input_std if it has them)
 */
import { parseArgs } from 'node:util';
import type { BackendName } from '../engine/create-node-backend.ts';
import type { OptimizerName } from '../engine/optim/optimizer.ts';
import type { ScheduleName } from '../engine/optim/schedule.ts';
import type { NodeGpuPreference } from '../engine/webgpu/node-gpu.ts';

export interface CommonOptions {
  model: string;
  /** --onnx FILE: an imported ONNX model instead of a zoo model (--model). */
  onnx: string | null;
  /** --input-scale/--input-mean/--input-std, when any is given. */
  preprocessing: { scale?: number; mean?: number[]; std?: number[] } | null;
  data: string;
  /** --resize HxW: every image resized to H x W (bilinear, as the page's Resize), else the data's own size. */
  resize: [number, number] | null;
  subset: number | null;
  testSubset: number | null;
  /** --unlabelled: use the data's images without their labels (as a folder of images without class folders is). */
  unlabelled: boolean;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: OptimizerName;
  schedule: ScheduleName;
  momentum: number;
  weightDecay: number;
  seed: number;
  backend: BackendName;
  gpu: NodeGpuPreference;
  modelPath: string;
  augment: boolean;
  resume: boolean;
  /** Extra stage-specific options, raw. */
  rest: Record<string, string | boolean | undefined>;
}

export class UsageError extends Error {}

function oneOf<T extends string>(name: string, v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${allowed.join('|')}, got "${v}"`);
  return v as T;
}

/** A numeric option; `min` (inclusive, or exclusive when `above`) is checked here so that a bad value stops
 *  the stage before any data is loaded. */
function num(name: string, v: string | undefined, fallback: number, integer = false, min = -Infinity, above = false): number {
  if (v === undefined) return fallback;
  const x = Number(v);
  if (!Number.isFinite(x) || (integer && !Number.isInteger(x))) throw new UsageError(`--${name} must be a${integer ? 'n integer' : ' number'}, got "${v}"`);
  if (above ? !(x > min) : x < min) throw new UsageError(`--${name} must be ${above ? '>' : '>='} ${min}, got "${v}"`);
  return x;
}

export function parseCommon(argv: string[], extra: Record<string, { type: 'string' | 'boolean' }> = {}): CommonOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      model: { type: 'string' }, data: { type: 'string' }, resize: { type: 'string' }, subset: { type: 'string' }, 'test-subset': { type: 'string' },
      epochs: { type: 'string' }, 'batch-size': { type: 'string' }, lr: { type: 'string' }, optimizer: { type: 'string' },
      schedule: { type: 'string' }, momentum: { type: 'string' }, 'weight-decay': { type: 'string' }, seed: { type: 'string' },
      backend: { type: 'string' }, gpu: { type: 'string' }, 'model-path': { type: 'string' }, augment: { type: 'boolean' },
      resume: { type: 'boolean' }, unlabelled: { type: 'boolean' }, onnx: { type: 'string' }, 'input-scale': { type: 'string' },
      'input-mean': { type: 'string' }, 'input-std': { type: 'string' },
      ...extra,
    },
  });
  const v = values as Record<string, string | boolean | undefined>;
  const s = (k: string) => v[k] as string | undefined;
  const subset = s('subset') === undefined ? null : num('subset', s('subset'), 0, true, 1);
  const testSubset = s('test-subset') === undefined ? null : num('test-subset', s('test-subset'), 0, true, 1);
  const onnx = s('onnx') ?? null;
  let resize: [number, number] | null = null;
  if (s('resize') !== undefined) {
    const m = /^(\d+)x(\d+)$/i.exec(s('resize')!.trim());
    if (!m || +m[1] < 1 || +m[2] < 1 || +m[1] > 4096 || +m[2] > 4096) {
      throw new UsageError(`--resize must be HxW with 1 <= H, W <= 4096, e.g. 32x32, got "${s('resize')}"`);
    }
    resize = [+m[1], +m[2]];
  }
  if (onnx !== null && s('model') !== undefined) throw new UsageError('give either --model or --onnx, not both');
  const list = (name: string) => {
    const v = s(name);
    if (v === undefined) return undefined;
    const xs = v.split(',').map((t) => Number(t.trim()));
    if (!xs.length || !xs.every(Number.isFinite)) throw new UsageError(`--${name} must be a number or a comma-separated list, got "${v}"`);
    return xs;
  };
  const inputScale = s('input-scale') === undefined ? undefined : num('input-scale', s('input-scale'), 0);
  if (inputScale !== undefined && !(inputScale > 0)) throw new UsageError('--input-scale must be > 0');
  const inputMean = list('input-mean'), inputStd = list('input-std');
  if (inputStd && !inputStd.every((x) => x > 0)) throw new UsageError('--input-std must be > 0');
  const given = inputScale !== undefined || inputMean !== undefined || inputStd !== undefined;
  return {
    model: s('model') ?? 'cnn-small',
    onnx,
    preprocessing: given ? { scale: inputScale, mean: inputMean, std: inputStd } : null,
    data: s('data') ?? 'fashion-mnist',
    resize,
    subset, testSubset,
    unlabelled: (v.unlabelled as boolean | undefined) ?? false,
    epochs: num('epochs', s('epochs'), 3, true, 0),
    batchSize: num('batch-size', s('batch-size'), 128, true, 1),
    lr: num('lr', s('lr'), 5e-3, false, 0, true),
    optimizer: oneOf('optimizer', s('optimizer') ?? 'adam', ['adam', 'adamw', 'sgd'] as const),
    schedule: oneOf('schedule', s('schedule') ?? 'onecycle', ['onecycle', 'cosine', 'step', 'constant'] as const),
    momentum: num('momentum', s('momentum'), 0.9, false, 0),
    weightDecay: num('weight-decay', s('weight-decay'), 0, false, 0),
    seed: num('seed', s('seed'), 0, true, 0),
    backend: oneOf('backend', s('backend') ?? 'webgpu', ['webgpu', 'cpu'] as const),
    gpu: oneOf('gpu', s('gpu') ?? 'auto', ['auto', 'gles', 'vulkan'] as const),
    modelPath: s('model-path') ?? 'runs/default',
    augment: (v.augment as boolean | undefined) ?? false,
    resume: (v.resume as boolean | undefined) ?? false,
    rest: v,
  };
}
