/**
 * qconfig as in horizon_plugin_pytorch: factories (specs, not observer instances) for activations and
 * weights, a march, a rounding mode, and per-node overrides by name or glob pattern. Templates:
 *   default_calibration       MSE activations, min-max per-channel weights (post-training calibration)
 *   default_qat               moving-average min-max activations (constant 0.01), min-max weights
 *   default_qat_fixed_act     averaging constant 0: calibrated activation scales stay frozen in QAT
 *   *_int16                   the same with qint16 activations
 * Symmetric everywhere (zero point 0); activations per tensor, weights per output channel, int8 or (weightBits 4)
 * int4 in [-8, 7] (still held in int8 storage by convert, the simulator and the QDQ export).
 */
import type { March } from '../qmath/march.ts';
import type { QDtype } from '../qmath/qparams.ts';
import type { RoundingMode } from '../qmath/rounding.ts';
import { isObserverName, type ObserverName } from './observers/index.ts';

export interface TensorQuantSpec {
  observer: ObserverName;
  dtype: QDtype;
  /** Moving-average constant for QAT updates of activation ranges (0 = frozen). */
  averagingConstant: number;
  /** fixed_scale observer: the scale. */
  fixedScale?: number;
}

export interface NodeOverride {
  /** Node id, or a glob with * (e.g. "block2.*"). */
  match: string;
  activation?: Partial<TensorQuantSpec>;
  weight?: Partial<TensorQuantSpec>;
  /**
   * The high-precision output of a node read only by the DeQuantStub: a conv / linear's int32 accumulator, a table
   * op's int16 output (false: the activation dtype as everywhere else).
   */
  int32Output?: boolean;
}

export interface QConfig {
  template: string;
  activation: TensorQuantSpec;
  weight: TensorQuantSpec;
  march: March;
  rounding: RoundingMode;
  /** QuantStub with a fixed scale (e.g. 1/128 for centered YUV input); null = observed. */
  quantStubScale: number | null;
  /** High-precision output where a DeQuantStub is the only consumer: int32 for a conv / linear, int16 for a table op. */
  highPrecisionOutput: boolean;
  overrides: NodeOverride[];
}

export const QCONFIG_TEMPLATES = [
  'default_calibration', 'default_qat', 'default_qat_fixed_act',
  'default_calibration_int16', 'default_qat_int16', 'default_qat_fixed_act_int16',
] as const;
export type QConfigTemplate = (typeof QCONFIG_TEMPLATES)[number];

export const WEIGHT_BITS = [8, 4] as const;
export type WeightBits = (typeof WEIGHT_BITS)[number];

export interface TemplateOptions {
  march?: March;
  rounding?: RoundingMode;
  /** Replaces the template's activation observer (the CLI's --observer). */
  observer?: string;
  /** Weight width: 8 (qint8, default) or 4 (qint4, range [-8, 7]); the CLI's --weight-bits. */
  weightBits?: WeightBits;
  quantStubScale?: number | null;
  highPrecisionOutput?: boolean;
  overrides?: NodeOverride[];
}

export function qconfigTemplate(name: string, o: TemplateOptions = {}): QConfig {
  if (!(QCONFIG_TEMPLATES as readonly string[]).includes(name)) {
    throw new Error(`unknown qconfig "${name}" (known: ${QCONFIG_TEMPLATES.join(', ')})`);
  }
  const int16 = name.endsWith('_int16');
  const base = name.replace(/_int16$/, '');
  const actObserver: ObserverName = base === 'default_calibration' ? 'mse' : 'moving_average_minmax';
  if (o.observer !== undefined && !isObserverName(o.observer)) throw new Error(`unknown observer "${o.observer}"`);
  if (o.weightBits !== undefined && !(WEIGHT_BITS as readonly number[]).includes(o.weightBits)) {
    throw new Error(`weight bits must be one of ${WEIGHT_BITS.join(', ')}, got ${String(o.weightBits)}`);
  }
  return {
    template: name,
    activation: {
      observer: (o.observer as ObserverName | undefined) ?? actObserver,
      dtype: int16 ? 'qint16' : 'qint8',
      averagingConstant: base === 'default_qat_fixed_act' ? 0 : 0.01,
    },
    weight: { observer: 'per_channel_minmax', dtype: o.weightBits === 4 ? 'qint4' : 'qint8', averagingConstant: 1 },
    march: o.march ?? 'bayes',
    rounding: o.rounding ?? 'half_even',
    quantStubScale: o.quantStubScale ?? null,
    highPrecisionOutput: o.highPrecisionOutput ?? true,
    overrides: o.overrides ?? [],
  };
}

function globToRegExp(glob: string): RegExp {
  const esc = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${esc}$`);
}

/**
 * The effective specs of one node: the qconfig's, then the op's own output dtype (`opDtype`, its OpDef's
 * quant.outputDtype: int16 for softmax / layer norm / GELU), then every matching override in order.
 */
export function specsFor(qc: QConfig, nodeId: string, opDtype?: 'qint16'): { activation: TensorQuantSpec; weight: TensorQuantSpec; int32Output: boolean | null } {
  let activation = { ...qc.activation, ...(opDtype ? { dtype: opDtype } : {}) };
  let weight = { ...qc.weight };
  let int32Output: boolean | null = null;
  for (const ov of qc.overrides) {
    if (!globToRegExp(ov.match).test(nodeId)) continue;
    if (ov.activation) activation = { ...activation, ...ov.activation };
    if (ov.weight) weight = { ...weight, ...ov.weight };
    if (ov.int32Output !== undefined) int32Output = ov.int32Output;
  }
  return { activation, weight, int32Output };
}
