/**
 * qparams.json of a PyTorch export: the qconfig and every calibrated scale under the PyTorch names of the generated
 * model (torch-names.ts), and what each module is. Built from a calib / qat checkpoint; a QAT run in PyTorch writes
 * the same file back (studio_quant.save_checkpoint) with its trained scales and running ranges.
 *
 *  activations["<module>.activation_post_process"]  per tensor (ch_axis -1), qscheme per_tensor_symmetric
 *  weights["<module>.weight_fake_quant"]           per output channel (ch_axis 0), qscheme per_channel_symmetric
 * each with dtype (qint8 / qint16), quant_min / quant_max, scale[], zero_point[] (0), min_val[] / max_val[] (the
 * running range the observer continues from), averaging_constant (activations: the moving-average constant, 0 =
 * frozen; weights: 1, the current weights' range at every forward).
 */
import type { Conv2dParams, Pool2dParams } from '../../engine/backend.ts';
import type { Normalization } from '../../data/loader.ts';
import { graphOutputs, outputNames, type FusedAct, type Graph, type GraphNode, type OpType } from '../../graph/ir.ts';
import type { HostParams } from '../../nn/params.ts';
import { opDef } from '../../ops/registry.ts';
import type { TorchExport } from '../../ops/types.ts';
import { minMax } from '../../engine/reference/quant.ts';
import { marchUsesPowerOfTwoScale, type March } from '../../quant/march.ts';
import { isClassScores } from '../../quant/deploy-outputs.ts';
import { prepare, type QuantPlan } from '../../quant/prepare.ts';
import { EPS_F32, type QDtype } from '../../quant/qparams.ts';
import type { QConfig } from '../../quant/qconfig.ts';
import type { QuantCheckpoint } from '../../quant/quant-checkpoint.ts';
import type { RoundingMode } from '../../quant/rounding.ts';
import { weightScalesOf } from '../onnx/export-qdq.ts';
import { activationSiteKey, torchModuleNames, weightSiteKey } from './torch-names.ts';

export const TORCH_FORMAT = 'quant-studio-torch';
export const TORCH_FORMAT_VERSION = 1;

export interface TorchSiteJson {
  node: string;
  /** weights: the studio parameter quantized. */
  param?: string;
  observer: string;
  dtype: QDtype;
  qscheme: 'per_tensor_symmetric' | 'per_channel_symmetric';
  ch_axis: -1 | 0;
  quant_min: number;
  quant_max: number;
  averaging_constant: number;
  scale: number[];
  zero_point: number[];
  min_val: number[];
  max_val: number[];
}

export interface TorchModuleJson {
  node: string;
  op: OpType;
  fused_from?: string[];
  /** state_dict key -> studio parameter name. */
  params: Record<string, string>;
  conv?: Conv2dParams;
  kernel?: [number, number];
  in_channels?: number;
  out_channels?: number;
  in_features?: number;
  out_features?: number;
  bias?: boolean;
  act?: FusedAct | null;
  add_input?: boolean;
  /** conv / linear: the activation site whose scale the bias's int32 grid uses (prepare's BiasSite). */
  bias_input?: string;
  /** conv_transpose2d: rows and columns added after the last output position. */
  output_padding?: [number, number];
  pool?: Pool2dParams;
  eps?: number;
  momentum?: number;
  num_features?: number;
  /** prelu: slopes (1, or one per channel). */
  num_parameters?: number;
  /** reshape: per-sample target shape. */
  shape?: number[];
}

export interface TorchQParamsJson {
  format: typeof TORCH_FORMAT;
  version: number;
  model: string;
  stage: 'calib' | 'qat';
  source: 'quant-studio' | 'pytorch';
  input: { shape: number[]; layout: 'NCHW float32'; normalization: Normalization };
  num_classes: number;
  qconfig: {
    template: string;
    march: March;
    rounding: RoundingMode;
    power_of_two_scales: boolean;
    eps: number;
    activation: { observer: string; dtype: QDtype; qscheme: 'per_tensor_symmetric'; averaging_constant: number };
    weight: { observer: string; dtype: QDtype; qscheme: 'per_channel_symmetric'; ch_axis: 0 };
    quant_stub_scale: number | null;
    high_precision_output: boolean;
    overrides: QConfig['overrides'];
  };
  modules: Record<string, TorchModuleJson>;
  activations: Record<string, TorchSiteJson>;
  weights: Record<string, TorchSiteJson>;
  /** conv / linear modules whose output stays int32 (no activation fake quant). */
  int32_outputs: string[];
  /**
   * The model's outputs in the order model.py's forward returns them (a tuple when there are several), each with
   * its quantization: 'int32' straight from a conv / linear (int32_outputs; no fake quant), else the activation site
   * whose fake-quantized value it is. Absent from packages written before several outputs existed (one output).
   */
  outputs?: TorchOutputJson[];
}

export interface TorchOutputJson {
  /** The user-facing name (the ONNX file's output name; 'logits' for a single output). */
  name: string;
  /** The DeQuantStub module that returns it. */
  module: string;
  /** Per-sample shape. */
  shape: number[];
  /** One vector of K > 1 class scores per sample (cross-entropy applies; otherwise train_qat.py distills). */
  class_scores: boolean;
  /** The module whose value it is. */
  source: string;
  /** 'float': an output outside the quantized region. */
  dtype: 'int32' | 'float' | QDtype;
  /** The activation site (a key of "activations") that quantizes it; null for an int32 output. */
  activation: string | null;
}

export class TorchExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TorchExportError';
  }
}

const shapeOf = (g: Graph, name: string) => {
  const p = g.params.find((x) => x.name === name);
  if (!p) throw new TorchExportError(`graph ${g.name}: no parameter ${name}`);
  return p.shape;
};

/** The op's PyTorch export part (OpDef.torch); an op without one is refused by name. */
export function torchPartOf(n: GraphNode): Exclude<TorchExport, { none: string }> {
  const d = opDef(n.op);
  if ('none' in d.torch) throw new TorchExportError(`node ${n.id}: ${d.view.label} has no PyTorch export (${d.torch.none})`);
  return d.torch;
}

function moduleJson(g: Graph, n: GraphNode, module: string): TorchModuleJson {
  const params: Record<string, string> = {};
  for (const [role, name] of Object.entries(n.params)) params[`${module}.${role}`] = name;
  const m: TorchModuleJson = { node: n.id, op: n.op, params };
  if (n.attrs.fusedFrom) m.fused_from = n.attrs.fusedFrom;
  return Object.assign(m, torchPartOf(n).info?.(n, (role) => shapeOf(g, n.params[role])));
}

/** The qparams.json of a calib / qat checkpoint (scales as the studio's QuantizedModel has them). */
export function buildTorchQParams(ck: QuantCheckpoint, normalization: Normalization): TorchQParamsJson {
  const { graph: g, qconfig: qc } = ck;
  const plan: QuantPlan = prepare(g, qc);
  const names = torchModuleNames(g);
  const pow2 = marchUsesPowerOfTwoScale(qc.march);
  for (const id of plan.float) {
    const n = g.nodes.find((x) => x.id === id)!;
    if (opDef(n.op).quant.weight) {
      throw new TorchExportError(`node ${id} (${n.op}) is computed in float outside the QuantStub…DeQuantStub region; the PyTorch export supports layers with weights (conv, linear) only inside it`);
    }
  }
  const modules: Record<string, TorchModuleJson> = {};
  for (const n of g.nodes) if (n.op !== 'input') modules[names.get(n.id)!] = moduleJson(g, n, names.get(n.id)!);
  for (const b of plan.biases) modules[names.get(b.node)!].bias_input = activationSiteKey(names.get(b.input)!);
  const activations: Record<string, TorchSiteJson> = {};
  for (const a of plan.acts) {
    const qp = ck.qsites[`qsite:${a.node}:qparams`], rn = ck.qsites[`qsite:${a.node}:running`];
    if (!qp || !rn) throw new TorchExportError(`activation ${a.node} has no scale yet: calibrate first (or run QAT)`);
    activations[activationSiteKey(names.get(a.node)!)] = {
      node: a.node, observer: a.spec.observer, dtype: a.spec.dtype, qscheme: 'per_tensor_symmetric', ch_axis: -1,
      quant_min: a.quantMin, quant_max: a.quantMax, averaging_constant: a.spec.averagingConstant,
      scale: [qp[0]], zero_point: [0], min_val: [rn[0]], max_val: [rn[1]],
    };
  }
  const weights: Record<string, TorchSiteJson> = {};
  for (const w of plan.weights) {
    const data = ck.params[w.param];
    if (!data) throw new TorchExportError(`missing parameter ${w.param}`);
    const scales = weightScalesOf(data, w.channels, w.quantMin, w.quantMax, qc.march);
    const [mn, mx] = minMax(data, { outer: 1, channels: w.channels, inner: data.length / w.channels });
    weights[weightSiteKey(names.get(w.node)!)] = {
      node: w.node, param: w.param, observer: w.spec.observer, dtype: w.spec.dtype, qscheme: 'per_channel_symmetric', ch_axis: 0,
      quant_min: w.quantMin, quant_max: w.quantMax, averaging_constant: 1,
      scale: Array.from(scales), zero_point: Array.from(scales, () => 0), min_val: Array.from(mn), max_val: Array.from(mx),
    };
  }
  return {
    format: TORCH_FORMAT, version: TORCH_FORMAT_VERSION, model: ck.model, stage: ck.stage, source: 'quant-studio',
    input: { shape: g.inputShape, layout: 'NCHW float32', normalization },
    num_classes: g.numClasses,
    qconfig: {
      template: qc.template, march: qc.march, rounding: qc.rounding, power_of_two_scales: pow2, eps: EPS_F32,
      activation: { observer: qc.activation.observer, dtype: qc.activation.dtype, qscheme: 'per_tensor_symmetric', averaging_constant: qc.activation.averagingConstant },
      weight: { observer: qc.weight.observer, dtype: qc.weight.dtype, qscheme: 'per_channel_symmetric', ch_axis: 0 },
      quant_stub_scale: qc.quantStubScale, high_precision_output: qc.highPrecisionOutput, overrides: qc.overrides,
    },
    modules, activations, weights,
    int32_outputs: plan.int32Outputs.map((id) => names.get(id)!),
    outputs: outputsJson(g, plan, names, activations),
  };
}

function outputsJson(g: Graph, plan: QuantPlan, names: Map<string, string>, activations: Record<string, TorchSiteJson>): TorchOutputJson[] {
  const outNames = outputNames(g);
  return graphOutputs(g).map((id, k) => {
    const n = g.nodes.find((x) => x.id === id)!;
    const src = n.op === 'dequant_stub' ? n.inputs[0] : id;
    const site = activationSiteKey(names.get(src)!);
    const int32 = plan.int32Outputs.includes(src);
    return {
      name: outNames[k], module: names.get(id)!, shape: [...n.shape], class_scores: isClassScores(n.shape), source: names.get(src)!,
      dtype: int32 ? 'int32' as const : activations[site]?.dtype ?? 'float' as const, activation: !int32 && activations[site] ? site : null,
    };
  });
}

/** The fused float parameters under their state_dict keys. */
export function torchStateTensors(q: TorchQParamsJson, params: HostParams): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const m of Object.values(q.modules)) {
    for (const [key, name] of Object.entries(m.params)) {
      const v = params[name];
      if (!v) throw new TorchExportError(`missing parameter ${name}`);
      out[key] = v;
    }
  }
  return out;
}
