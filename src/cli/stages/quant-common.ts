/** What the quantization stages (calib, qat) share: their options and how a model is loaded and prepared. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend } from '../../engine/backend.ts';
import { decodeCheckpoint } from '../../io/checkpoint.ts';
import { fuse } from '../../graph/passes/fuse.ts';
import type { Graph } from '../../graph/ir.ts';
import type { Normalization } from '../../data/loader.ts';
import { ParamStore, type HostParams } from '../../nn/params.ts';
import { isMarch, MARCHES, type March } from '../../qmath/march.ts';
import { OBSERVER_NAMES } from '../../quant/observers/index.ts';
import { prepare } from '../../quant/prepare.ts';
import { QCONFIG_TEMPLATES, qconfigTemplate, WEIGHT_BITS, type QConfig, type WeightBits } from '../../quant/qconfig.ts';
import { QuantizedModel } from '../../quant/quantized-model.ts';
import { decodeQuantCheckpoint, type QuantCheckpoint } from '../../quant/quant-checkpoint.ts';
import { ROUNDING_MODES, type RoundingMode } from '../../qmath/rounding.ts';
import { parseCommon, UsageError, type CommonOptions } from '../options.ts';
import { checkCheckpointData, loadModelSource, type DataShape } from '../model-source.ts';

export const QUANT_OPTIONS = {
  observer: { type: 'string' }, qconfig: { type: 'string' }, march: { type: 'string' },
  'calib-images': { type: 'string' }, rounding: { type: 'string' }, 'quant-stub-scale': { type: 'string' },
  'strict-accumulators': { type: 'boolean' },
  'weight-bits': { type: 'string' },
} as const;

export interface QuantOptions extends CommonOptions {
  observer: string | undefined;
  qconfigName: string;
  march: March;
  calibImages: number;
  rounding: RoundingMode;
  quantStubScale: number | null;
  /** --strict-accumulators: convert refuses int32 accumulators at risk and saturated biases (docs/fixed-point.md §6.6). */
  strictAccumulators: boolean;
  /** --weight-bits 8|4: per-channel int8 or int4 weights. */
  weightBits: WeightBits;
}

/** `extra`: options of one stage beyond the shared ones (raw, in `rest`). */
export function parseQuant(argv: string[], defaultQConfig: string, extra: Record<string, { type: 'string' | 'boolean' }> = {}): QuantOptions {
  const o = parseCommon(argv, { ...QUANT_OPTIONS, ...extra });
  const r = o.rest as Record<string, string | undefined>;
  const march = r.march ?? 'bayes';
  if (!isMarch(march)) throw new UsageError(`--march must be one of ${MARCHES.join('|')}, got "${march}"`);
  const rounding = r.rounding ?? 'half_even';
  if (!(ROUNDING_MODES as readonly string[]).includes(rounding)) throw new UsageError(`--rounding must be half_even|bpu_round, got "${rounding}"`);
  const qconfigName = r.qconfig ?? defaultQConfig;
  if (!(QCONFIG_TEMPLATES as readonly string[]).includes(qconfigName)) throw new UsageError(`--qconfig must be one of ${QCONFIG_TEMPLATES.join('|')}`);
  if (r.observer !== undefined && !(OBSERVER_NAMES as readonly string[]).includes(r.observer)) {
    throw new UsageError(`--observer must be one of ${OBSERVER_NAMES.join('|')}, got "${r.observer}"`);
  }
  const calibImages = r['calib-images'] === undefined ? 512 : Number(r['calib-images']);
  if (!Number.isInteger(calibImages) || calibImages <= 0) throw new UsageError(`--calib-images must be a positive integer`);
  const qs = r['quant-stub-scale'];
  const weightBits = Number(r['weight-bits'] ?? 8);
  if (!(WEIGHT_BITS as readonly number[]).includes(weightBits)) throw new UsageError(`--weight-bits must be one of ${WEIGHT_BITS.join('|')}, got "${r['weight-bits']}"`);
  return {
    ...o, observer: r.observer, qconfigName, march, calibImages, rounding: rounding as RoundingMode,
    quantStubScale: qs === undefined ? null : Number(qs), weightBits: weightBits as WeightBits,
    strictAccumulators: (o.rest['strict-accumulators'] as boolean | undefined) ?? false,
  };
}

export function makeQConfig(o: QuantOptions, name = o.qconfigName): QConfig {
  return qconfigTemplate(name, { march: o.march, rounding: o.rounding, observer: o.observer, quantStubScale: o.quantStubScale, weightBits: o.weightBits });
}

/**
 * The float model of DIR, fused (Conv+BN folded, activations and adds fused): the float checkpoint's
 * parameters on the zoo model it names or, with --onnx, on the imported graph (the ONNX file's own
 * weights when DIR has no float checkpoint of that model). Also the input normalization to use.
 */
export async function loadFusedFloat(o: CommonOptions, data: DataShape): Promise<{ graph: Graph; host: HostParams; unfused: Graph; normalization: Normalization; modelName: string }> {
  const file = join(o.modelPath, 'float-checkpoint');
  let bytes: Uint8Array | null = null;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch {
    if (!o.onnx) throw new Error(`${file}: not found; run the float stage first (npm run cli -- float ... --model-path ${o.modelPath})`);
  }
  const c = bytes ? decodeCheckpoint(bytes, file) : null;
  if (c && !o.onnx && c.model.startsWith('onnx:')) throw new UsageError(`${file} is of the imported model ${c.model.slice(5)}: pass --onnx FILE`);
  if (c) checkCheckpointData(c.meta, data, file);
  // Data without labels: a zoo model keeps the classes its float checkpoint was trained with.
  const classes = c?.meta.numClasses as number | undefined;
  const shape = data.labelled === false && classes !== undefined ? { ...data, numClasses: classes } : data;
  const src = await loadModelSource(c && !o.onnx ? { ...o, model: c.model } : o, shape);
  let host = src.host;
  if (c && c.model === src.modelName) host = c.params;
  else if (o.onnx) console.log(`Using the weights of ${o.onnx}${c ? ` (${file} is of model ${c.model})` : ''}`);
  const f = fuse(src.graph, host);
  return { graph: f.graph, host: f.host, unfused: src.graph, normalization: src.normalization, modelName: src.modelName };
}

/** The input normalization of the stage's model (--onnx file metadata or --input-* options; default pixel/255). */
export async function stageNormalization(o: CommonOptions, data: DataShape): Promise<Normalization> {
  return (await loadModelSource(o, data)).normalization;
}

export async function loadQuantCheckpoint(dir: string, stage: 'calib' | 'qat'): Promise<QuantCheckpoint | null> {
  const file = join(dir, `${stage}-checkpoint`);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch {
    return null;
  }
  return decodeQuantCheckpoint(bytes, file);
}

export function buildQuantized(be: Backend, graph: Graph, host: HostParams, qc: QConfig, qsites: HostParams = {}): QuantizedModel {
  const store = new ParamStore(be, graph, host);
  const qm = new QuantizedModel(be, prepare(graph, qc), store);
  qm.loadHost(qsites);
  return qm;
}
