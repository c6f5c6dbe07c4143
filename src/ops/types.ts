/**
 * OpDef: everything one operator of the graph IR declares, for every stage of the flow. One module per op under
 * src/ops/<family>/<op>.ts exports one OpDef; src/ops/registry.ts lists them, and each stage reads its part from
 * the registry instead of keeping a list of ops of its own. A part an op lacks is a type error (every field below
 * is required; the optional ones say what leaving them out means). docs/adding-an-op.md has the steps.
 */
import type { Tape, Var } from '../engine/autograd.ts';
import type { BTensor } from '../engine/backend.ts';
import type { GraphNode } from '../graph/ir.ts';
import type { ImportContext, NodeIO } from '../io/onnx/import/context.ts';
import type { AttributeProto } from '../io/onnx/proto-types.ts';
import type { TorchModuleJson } from '../io/torch/qparams-json.ts';
import type { March } from '../qmath/march.ts';
import type { RoundingMode } from '../qmath/rounding.ts';
import type { QDType } from '../sim/int/requant.ts';
import type { FloatFn, IntLayer, OutClamp, RequantParams, ValueInfo } from '../sim/model.ts';

/** Reads one ONNX node into the IR (attribute checks included); errors go through `im.fail`. */
export type OnnxImporter = (im: ImportContext, io: NodeIO) => void;

// ---- float forward ------------------------------------------------------------------------------------------

/** What a node's forward may read besides its input values (src/nn/executor.ts). */
export interface ForwardCtx {
  /** The node's parameter of this role as a Var; the weight goes through the quantization weight hook. */
  param(role: string): Var;
  /** The node's buffer of this role (running statistics). */
  buffer(role: string): BTensor;
  /** The graph input (the 'input' node's value). */
  input: Var;
  batch: number;
  /** A fused conv / linear's epilogue: + its add input, then its fused activation (src/graph/passes/fuse.ts). */
  epilogue(y: Var): Var;
}

// ---- fusion -------------------------------------------------------------------------------------------------

/**
 * The op's part in the fusion patterns (src/graph/passes/fuse.ts builds its pattern table from these, in registry
 * order; src/graph/passes/check.ts reports the misses):
 *   anchor  conv / linear: the node that absorbs the others (`foldBn`: a following batch norm folds into its
 *           weights; `add`: a following add becomes its second input; `act`: a following activation its `act`)
 *   bn      folds into an anchor's weights
 *   add     joins an anchor as its second input
 *   act     an activation that can be an anchor's epilogue: `clamp` gives its integer bounds at a scale
 */
export interface FusionRole {
  anchor?: { foldBn: boolean; add: boolean; act: boolean };
  bn?: true;
  add?: true;
  act?: { clamp: (scale: number) => { clampMin?: number; clampMax?: number } };
}

// ---- quantization -------------------------------------------------------------------------------------------

/**
 * How prepare (src/quant/prepare.ts) quantizes the op:
 *   output  'site': its output gets a fake quant (a new quantized value); 'inherit': it moves values and keeps its
 *           input's scale; 'none': its output is not a quantized value of its own (float, or a region boundary)
 *   region  'enter': QuantStub (starts the quantized region); 'leave': never inside it (input, DeQuantStub);
 *           'const': a learned constant without inputs, inside the region with its own activation site
 *   weight  a weight site: the parameter role, per output channel along `axis`
 *   bias    an int32 bias at x_scale * w_scale[c] in the integer form (src/qmath/bias.ts): the fake-quant model
 *           puts the bias of this role on that grid too, once both scales are known (prepare's BiasSite)
 *   int32Output  the output may stay an int32 accumulator when only a DeQuantStub reads it
 *   int16Output  a table op's output is int16 (not the qconfig's int8) when only a DeQuantStub reads it: Horizon's
 *           high-precision output for an op without an accumulator (prepare decides both in one place)
 *   outputDtype  the output site's dtype when no per-node override sets one: 'qint16' for the ops whose output loses
 *           too much at int8 (softmax, layer norm, GELU), as Horizon's nash qconfigs keep them at int16
 */
export interface QuantRole {
  output: 'site' | 'inherit' | 'none';
  outputDtype?: 'qint16';
  region?: 'enter' | 'leave' | 'const';
  weight?: { role: string; axis: 0 };
  bias?: { role: string };
  int32Output?: true;
  int16Output?: true;
}

// ---- integer lowering ---------------------------------------------------------------------------------------

/** What convert (src/quant/convert.ts) gives an op's lowering. */
export interface LowerCtx {
  march: March;
  /** Width of conv / linear requantization multipliers. */
  bits: number;
  rounding: RoundingMode;
  /** The output site's scale and integer dtype (throws if never calibrated). */
  site(n: GraphNode): { scale: number; dtype: QDType };
  /** The integer domain of a value computed earlier. */
  info(id: string): ValueInfo;
  /** The per-tensor scale of a value (refuses int32 per-channel values). */
  scalarScale(id: string): number;
  param(name: string): Float32Array;
  paramShape(name: string): number[];
  /** The node's weight site from the plan, if any. */
  weightSite(n: GraphNode): { channels: number; quantMin: number; quantMax: number } | undefined;
  /** Whether the plan keeps this node's output as an int32 accumulator. */
  int32Output(n: GraphNode): boolean;
  dtypeClamp(dtype: QDType): OutClamp;
  /** The dtype range narrowed by a fused activation (an op with fusion.act). */
  actClamp(act: string | undefined, scale: number, dtype: QDType): OutClamp;
  requantParams(realScales: ArrayLike<number>, march: March, bits: number): RequantParams;
  fail(reason: string): never;
}

/** One node's integer form: the simulator layer it becomes (null: none, e.g. the input) and its value's domain. */
export interface Lowered {
  layer: IntLayer | null;
  value: ValueInfo | null;
}

/**
 * The op's integer implementation: `lower` turns a node into a simulator layer (src/sim/model.ts IntLayer, whose
 * reference kernel, fast path, WGSL kernel and cost live in src/sim/layers.ts); `marches` limits it to some marches
 * (prepare refuses the others by name). `none`: the op has no integer implementation, and why.
 */
export type IntImpl =
  | {
    lower: (n: GraphNode, c: LowerCtx) => Lowered;
    marches?: readonly March[];
    /** A case the lowering has no integer layer for (null: it has one): the node becomes a float island. */
    floatIf?: (n: GraphNode) => string | null;
  }
  | { none: string };

// ---- QDQ export ---------------------------------------------------------------------------------------------

/** What the QDQ export (src/io/onnx/export-qdq.ts) gives an op's writer. */
export interface QdqCtx {
  /** ONNX value names of the node's inputs (dequantized). */
  inputs: string[];
  /** Appends an ONNX node named after the IR node; returns its output name (`<node id>.<suffix>`). */
  emit(op: string, inputs: string[], suffix: string, attrs?: AttributeProto[]): string;
  constF(base: string, dims: number[], data: Float32Array): string;
  constI(base: string, dims: number[], data: ArrayLike<number>, dataType: number): string;
  param(role: string): Float32Array;
  paramShape(role: string): number[];
  /** conv / linear: the (de)quantized weight and bias inputs. */
  weightInputs(): string[];
  /** conv / linear: the fused add and activation after the node's own output. */
  epilogue(y: string): string;
  /** The graph's float input. */
  graphInput(): string;
  /** The file's opset (13; 21 where int16 Q/DQ pairs need it): an op written differently across opsets reads it. */
  opset: number;
  /**
   * The node's layer in the converted integer model (src/quant/convert.ts: what the simulator computes), when the
   * graph converts: an op whose float form would round differently writes the layer's integer arithmetic instead
   * (src/io/onnx/qdq-requant.ts).
   */
  layer?: IntLayer;
  /** The integer tensor (int8 / int16) behind a quantized value of the export: its QuantizeLinear's output. */
  intOf(value: string): string;
  /** The node's activation site scale (null: the node has none). */
  outScale: number | null;
  /** conv / linear: the accumulator's per-output-channel scales f32(x_scale · w_scale[o]) (the int32 bias's). */
  accScales(): Float32Array;
}

// ---- PyTorch export -----------------------------------------------------------------------------------------

/** What the PyTorch export's model.py writer (src/io/torch/model-py.ts) gives an op's part. */
export interface TorchCtx {
  /** The node's module attribute: `self.<m>`. */
  m: string;
  /** The Python variables of the node's inputs in forward. */
  xs: string[];
  /** The batch size in forward (a Python expression): what an op without inputs (a learned constant) repeats over. */
  batch: string;
  /** The node's qparams.json module entry (with the fields its `info` added). */
  info: TorchModuleJson;
  /** Refuses the node (a TorchExportError naming it). */
  fail(reason: string): never;
}

/**
 * The op in the PyTorch export (src/io/torch, helpers in src/io/torch/py.ts): `module` writes its `self.<m> = ...`
 * line(s) of `__init__` (the runtime's classes are in src/io/torch/templates/studio_quant.py), `call` the forward
 * expression computing it from its inputs (before its activation fake quant, which the writer applies after it,
 * as torch.ao's eager prepare does, unless `ownsActivationQuant`: FloatFunctional add / cat apply their own).
 * `info`: the fields of its qparams.json module entry the runtime reads (conv geometry, pool window...).
 * `none`: the op has no PyTorch export, and why (the export refuses it: "PReLU has no PyTorch export: ...").
 */
export type TorchExport =
  | {
      module: (n: GraphNode, c: TorchCtx) => string[];
      call: (n: GraphNode, c: TorchCtx) => string;
      info?: (n: GraphNode, paramShape: (role: string) => number[]) => Partial<TorchModuleJson>;
      ownsActivationQuant?: true;
    }
  | { none: string };

// ---- the definition -----------------------------------------------------------------------------------------

export interface OpDef {
  /** The IR op type (the registry key). */
  type: string;
  /** Viewer: a short name and the attributes worth showing (e.g. "3x3 s2 p1 g32"). */
  view: { label: string; attrs: (n: GraphNode) => string };
  /** ONNX op types read as this op (empty: none; several ONNX ops may map to one IR op). */
  onnx: Record<string, OnnxImporter>;
  /** Per-sample output shape (batch excluded) from the per-sample input shapes. */
  inferShape: (n: GraphNode, inputs: number[][], paramShape: (role: string) => number[]) => number[];
  /** The float forward on the tape; its backward is the autograd Fn's (src/engine/fns), on the Backend. */
  forward: (tape: Tape, n: GraphNode, xs: Var[], c: ForwardCtx) => Var;
  fusion: FusionRole;
  quant: QuantRole;
  int: IntImpl;
  /** Writes the node as ONNX (float ops; the export adds the Q/DQ pairs of its sites); returns its output. */
  qdq: (n: GraphNode, c: QdqCtx) => string;
  /**
   * The op's float computation as a float island of a heterogeneous model (src/sim/float-island.ts): used where the
   * op has no integer implementation on the march (int `none`, or `marches` without it) or for this node (`floatIf`).
   * Absent: such a node is refused (prepare / convert name it), never run wrongly.
   */
  floatIsland?: (n: GraphNode, c: LowerCtx) => FloatFn;
  /** How the PyTorch export writes it (model.py). */
  torch: TorchExport;
  /** Multiply-accumulates of one sample's forward (the model summary; the integer perf estimate: src/sim/layers.ts). */
  macs: (n: GraphNode, paramShape: (role: string) => number[]) => number;
}

export { assertNever } from '../sim/assert-never.ts';
