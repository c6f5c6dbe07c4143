/**
 * The operator registry: every IR op and its OpDef (src/ops/types.ts). The IR's op type is this table's key set,
 * so an op exists once it is listed here, and every stage reads its part from here:
 *   import (ONNX)     onnxImporters()            src/io/onnx/import/ops/index.ts
 *   IR / builder     inferShape                 src/graph/builder.ts, src/graph/passes/util.ts (validateGraph)
 *   float run        forward                    src/nn/executor.ts
 *   fusion           fusion                     src/graph/passes/fuse.ts, check.ts
 *   prepare          quant                      src/quant/prepare.ts
 *   convert          int                        src/quant/convert.ts (layers: src/sim/layers.ts)
 *   QDQ export       qdq                        src/io/onnx/export-qdq.ts
 *   PyTorch export   torch                      src/io/torch/model-py.ts, qparams-json.ts
 *   viewer           view                       src/ui/graph-view/graph-model.ts, NodeDetails.tsx
 *   model summary    macs                       src/graph/ir.ts (macsPerSample)
 * Shape subgraphs (Shape, Gather, Unsqueeze, ... of constants) fold at import (src/io/onnx/import/fold.ts).
 * Registry order matters only for fusion: patterns are tried in this order (conv2d before linear, relu before relu6).
 */
import { dequantStubOp } from './boundary/dequant-stub.ts';
import { inputOp } from './boundary/input.ts';
import { quantStubOp } from './boundary/quant-stub.ts';
import { relu6Op, reluOp } from './activation/relu.ts';
import { clipOp, hardsigmoidOp, hardswishOp, leakyreluOp, sigmoidOp, siluOp, tanhOp } from './activation/lut-ops.ts';
import { preluOp } from './activation/prelu.ts';
import { batchnorm2dOp } from './conv/batchnorm2d.ts';
import { conv2dOp } from './conv/conv2d.ts';
import { convTranspose2dOp } from './conv/conv-transpose2d.ts';
import { linearOp } from './dense/linear.ts';
import { addOp } from './eltwise/add.ts';
import { affineOp } from './eltwise/affine.ts';
import { mulOp } from './eltwise/mul.ts';
import { subOp } from './eltwise/sub.ts';
import { avgpool2dOp, globalAvgpoolOp, maxpool2dOp } from './pool/pool2d.ts';
import { channelShuffleOp } from './shape/channel-shuffle.ts';
import { concatOp } from './shape/concat.ts';
import { constantOp } from './shape/constant.ts';
import { importConstant } from './shape/onnx.ts';
import { flattenOp, identityOp, reshapeOp } from './shape/reshape.ts';
import { sliceOp } from './shape/slice.ts';
import { transposeOp } from './shape/transpose.ts';
import { matmulOp } from './dense/matmul.ts';
import { softmaxOp } from './activation/softmax.ts';
import { geluOp } from './activation/gelu.ts';
import { layernormOp } from './norm/layernorm.ts';
import { resizeLinearOp, resizeNearestOp } from './resize/resize.ts';
import { SHAPE_SUBGRAPH_IMPORTERS } from '../io/onnx/import/fold.ts';
import type { OnnxImporter, OpDef } from './types.ts';

export const OPS = {
  input: inputOp,
  quant_stub: quantStubOp,
  dequant_stub: dequantStubOp,
  conv2d: conv2dOp,
  conv_transpose2d: convTranspose2dOp,
  batchnorm2d: batchnorm2dOp,
  linear: linearOp,
  relu: reluOp,
  relu6: relu6Op,
  add: addOp,
  mul: mulOp,
  sub: subOp,
  affine: affineOp,
  concat: concatOp,
  constant: constantOp,
  avgpool2d: avgpool2dOp,
  maxpool2d: maxpool2dOp,
  global_avgpool: globalAvgpoolOp,
  flatten: flattenOp,
  reshape: reshapeOp,
  identity: identityOp,
  // table activations (src/ops/activation/lut-ops.ts, prelu.ts)
  sigmoid: sigmoidOp,
  tanh: tanhOp,
  hardsigmoid: hardsigmoidOp,
  hardswish: hardswishOp,
  silu: siluOp,
  leakyrelu: leakyreluOp,
  prelu: preluOp,
  clip: clipOp,
  slice: sliceOp,
  channel_shuffle: channelShuffleOp,
  // transformer pieces (issue 14)
  transpose: transposeOp,
  matmul: matmulOp,
  softmax: softmaxOp,
  gelu: geluOp,
  layernorm: layernormOp,
  resize_nearest: resizeNearestOp,
  resize_linear: resizeLinearOp,
} satisfies Record<string, OpDef>;

/** The IR's op types: the registry's keys. */
export type OpType = keyof typeof OPS;

export const OP_TYPES = Object.keys(OPS) as OpType[];

/** ONNX ops the importer reads that make no IR node of their own (constants become values). */
const IMPORT_ONLY: Record<string, OnnxImporter> = { Constant: importConstant, ...SHAPE_SUBGRAPH_IMPORTERS };

export function isOpType(s: string): s is OpType {
  return Object.hasOwn(OPS, s);
}

/** The definition of an op; a node whose op is not registered (a file from elsewhere) gets a clear error. */
export function opDef(op: string): OpDef {
  if (!isOpType(op)) throw new Error(`unknown operator "${op}" (known: ${OP_TYPES.join(', ')})`);
  const d: OpDef = OPS[op];
  if (d.type !== op) throw new Error(`registry: ${op} is registered with the definition of ${d.type}`);
  return d;
}

/** ONNX op type -> importer, from every OpDef's `onnx` part (each ONNX op read by exactly one entry). */
export function onnxImporters(): ReadonlyMap<string, OnnxImporter> {
  const m = new Map<string, OnnxImporter>();
  const add = (onnxOp: string, f: OnnxImporter, owner: string) => {
    if (m.has(onnxOp)) throw new Error(`registry: ONNX ${onnxOp} is imported by two entries (${owner})`);
    m.set(onnxOp, f);
  };
  for (const d of Object.values(OPS) as OpDef[]) for (const [k, f] of Object.entries(d.onnx)) add(k, f, d.type);
  for (const [k, f] of Object.entries(IMPORT_ONLY)) add(k, f, 'import only');
  return m;
}

/** Whether the op has an integer implementation (on `march`, when given). */
export function hasIntImpl(op: OpType, march?: string): boolean {
  const int = opDef(op).int;
  if ('none' in int) return false;
  return !march || !int.marches || (int.marches as readonly string[]).includes(march);
}

/** Ops the fusion passes may fuse as an activation epilogue, in registry order. */
export const FUSABLE_ACTS: readonly OpType[] = OP_TYPES.filter((t) => opDef(t).fusion.act);
