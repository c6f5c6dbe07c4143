/**
 * ONNX import: a .onnx file (opsets 9 to 17) into the graph IR the zoo models use, so fusion,
 * calibration, QAT, the simulator and the viewer work on it unchanged.
 *
 * Supported: Conv (group, dilations, strides, pads, auto_pad), BatchNormalization (inference),
 * Relu, Clip (ReLU (0, inf), ReLU6 (0, 6), any other bounds) with min/max as inputs or attributes, Sigmoid,
 * Tanh, HardSigmoid, HardSwish, LeakyRelu, PRelu (x · Sigmoid(x) / x · HardSigmoid(x) as SiLU / HardSwish), Constant or initializer
 * inputs, Add (of two equal-shaped tensors, or of a constant bias folded into the preceding
 * MatMul/Gemm/Conv), Gemm, MatMul (+Add), GlobalAveragePool, AveragePool, MaxPool, Flatten (axis 1),
 * Reshape with a constant shape that keeps the batch dimension, Concat on channels or tokens (a constant input: a
 * learned `constant` node), Expand of a constant to the batch (a class token), Add of a constant no bias takes (a
 * position table), Gather of one index or a run on axis 1 (a class-token readout), Identity,
 * Constant, Dropout (removed), zero Pad folded into the following Conv / AveragePool, Slice and Split on
 * channels, the channel shuffle (Reshape -> Transpose -> Reshape), and the shape computations exporters emit
 * for them (Shape, Gather, Unsqueeze, Squeeze, Concat, Cast, Reshape, ConstantOfShape, Equal, Where, Expand,
 * arithmetic on constants: folded, fold.ts).
 * Weights: float32 initializers (raw_data or float_data). External data is refused.
 *
 * The imported graph: input -> QuantStub ('quant') -> the model -> DeQuantStub ('dequant'; one per output, in the
 * file's order, each of any shape: 'dequant', or 'dequant_<output name>' for each of several), per-sample
 * shapes, node ids from the ONNX node names (leading '/' dropped, so the exporter's module path
 * becomes the namespace), parameters named `<node id>.weight` etc. Nodes whose value reaches no
 * output are dropped.
 *
 * Anything else (an op outside the list, a dynamic dimension, a malformed file) throws OnnxImportError
 * naming the node, the op and the reason; the importer never hangs (every loop is bounded by the
 * file's size) and never allocates more than the file's data implies.
 *
 * Modules: graph-reader (opset, input, node order), context (the import's state and shared readers),
 * tensor (initializers), ops/* (one file per op family), preprocessing (input normalization).
 */
import type { Normalization } from '../../../data/loader.ts';
import type { Graph } from '../../../graph/ir.ts';
import { validateGraph } from '../../../graph/passes/util.ts';
import type { HostParams } from '../../../nn/params.ts';
import { decodeModelProto, int64, type ModelProto } from '../proto.ts';
import { ImportContext } from './context.ts';
import { OnnxImportError } from './errors.ts';
import { defaultOpset, readInput, topoOrder } from './graph-reader.ts';
import { importNode } from './ops/index.ts';
import { metadataPreprocessing, normalizationFrom } from './preprocessing.ts';
import { MAX_IR_VERSION, MIN_IR_VERSION, type OnnxImportOptions, type OnnxImportResult } from './types.ts';
import { prod } from './values.ts';

export { OnnxImportError } from './errors.ts';
export { normalizationFrom } from './preprocessing.ts';
export { MAX_OPSET, MIN_OPSET, SUPPORTED_OPS, type InputPreprocessing, type OnnxImportOptions, type OnnxImportResult } from './types.ts';

/**
 * Imports an ONNX model. `fileName` names the file in errors and the graph. Throws OnnxImportError
 * for anything it can't import (never another error type for bad input).
 */
export function importOnnx(bytes: Uint8Array, fileName: string, opts: OnnxImportOptions = {}): OnnxImportResult {
  const file = fileName || 'model.onnx';
  let m: ModelProto;
  try {
    m = decodeModelProto(bytes);
  } catch (e) {
    throw new OnnxImportError(file, `not a valid ONNX model (protobuf decoding failed: ${(e as Error).message})`);
  }
  try {
    return importModel(m, file, opts);
  } catch (e) {
    if (e instanceof OnnxImportError) throw e;
    // A bug or a resource error on a strange file: still report it as an import error.
    throw new OnnxImportError(file, `could not import the model: ${(e as Error).message}`);
  }
}

function importModel(m: ModelProto, file: string, opts: OnnxImportOptions): OnnxImportResult {
  const g = m.graph;
  if (!g || !(g.node ?? []).length) throw new OnnxImportError(file, 'the file has no graph (is it an ONNX model?)');
  const ir = m.irVersion === undefined || m.irVersion === null ? 0 : int64(m.irVersion);
  if (!ir) throw new OnnxImportError(file, 'the model has no ir_version (every ONNX model states the IR version it was written with)');
  if (!(ir >= MIN_IR_VERSION && ir <= MAX_IR_VERSION)) {
    throw new OnnxImportError(file, `ir_version ${ir} is outside the versions this importer knows (${MIN_IR_VERSION} to ${MAX_IR_VERSION})`);
  }
  const opset = defaultOpset(m, file);
  if ((g.sparseInitializer ?? []).length) throw new OnnxImportError(file, 'sparse initializers are not supported');
  const im = new ImportContext(file, opset);

  for (const t of g.initializer ?? []) {
    if (!t.name) throw new OnnxImportError(file, 'an initializer has no name');
    if (im.vals.has(t.name)) throw new OnnxImportError(file, `two initializers are named "${t.name}"; initializer names must be unique`);
    im.vals.set(t.name, { kind: 'lazy', t, what: `initializer "${t.name}"` });
  }
  const input = readInput(g, (name) => im.vals.has(name), file, opts.inputShape);
  const inputShape = input.inputShape;
  im.staticBatchOne = input.batch === 1;
  const outs = g.output ?? [];
  if (!outs.length) throw new OnnxImportError(file, 'the model has 0 outputs; it needs at least one');
  if (outs.length > MAX_OUTPUTS) throw new OnnxImportError(file, `the model has ${outs.length} outputs; at most ${MAX_OUTPUTS} are supported`);
  const outNames = outs.map((o, i) => {
    if (!o.name) throw new OnnxImportError(file, `output ${i + 1} has no name`);
    return o.name;
  });
  if (new Set(outNames).size !== outNames.length) throw new OnnxImportError(file, 'two graph outputs have the same name');

  // Uses of each value (graph output included), for the single-use checks.
  for (const n of g.node ?? []) {
    for (const o of n.output ?? []) if (o) im.producers.set(o, n);
    for (const i of n.input ?? []) {
      if (!i) continue;
      im.uses.set(i, (im.uses.get(i) ?? 0) + 1);
      const cs = im.consumers.get(i);
      if (cs) { if (!cs.includes(n)) cs.push(n); } else im.consumers.set(i, [n]);
    }
  }
  for (const o of outNames) im.uses.set(o, (im.uses.get(o) ?? 0) + 1);

  // input -> QuantStub
  im.ids.add('input');
  im.addNode('input', 'input', [], [...inputShape]);
  const quant = im.uniqueId('quant');
  im.addNode(quant, 'quant_stub', ['input'], [...inputShape]);
  im.vals.set(input.name, { kind: 'tensor', id: quant, shape: [...inputShape] });

  const order = topoOrder(g, new Set(im.vals.keys()), file);
  order.forEach((n, i) => importNode(im, n, i));
  im.cur = null;

  // One DeQuantStub per output, in the file's order; the first is the graph's `output`.
  const dequants = outNames.map((name) => addOutput(im, name, quant, outNames.length > 1));
  const classes = prod(nodeShape(im, dequants[0]));

  // Keep only what the outputs need.
  const live = new Set<string>(dequants);
  for (let i = im.nodes.length - 1; i >= 0; i--) if (live.has(im.nodes[i].id)) for (const x of im.nodes[i].inputs) live.add(x);
  live.add('input');
  const nodes = im.nodes.filter((n) => live.has(n.id));
  const usedParams = new Set(nodes.flatMap((n) => Object.values(n.params)));
  const params = im.params.filter((p) => usedParams.has(p.name));
  const host: HostParams = {};
  for (const p of params) host[p.name] = im.host[p.name];

  const base = (opts.name ?? file.split(/[\\/]/).pop() ?? 'model').replace(/\.onnx$/i, '') || 'onnx-model';
  const graph: Graph = {
    name: base, inputShape: [...inputShape], numClasses: classes, nodes, output: dequants[0], params,
    ...(dequants.length > 1 ? { outputs: dequants } : {}),
  };
  try {
    validateGraph(graph);
  } catch (e) {
    throw new OnnxImportError(file, `the imported graph is not valid: ${(e as Error).message}`);
  }

  let normalization: Normalization = 'pixel/255';
  let normalizationSource: OnnxImportResult['normalizationSource'] = 'default';
  try {
    const meta = metadataPreprocessing(m);
    if (opts.preprocessing) { normalization = normalizationFrom(opts.preprocessing); normalizationSource = 'options'; }
    else if (meta) { normalization = normalizationFrom(meta); normalizationSource = 'file'; }
  } catch (e) {
    throw new OnnxImportError(file, `input preprocessing: ${(e as Error).message}`);
  }
  if (typeof normalization === 'object') {
    for (const a of [normalization.mean, normalization.std]) {
      if (a.length !== 1 && a.length !== inputShape[0]) throw new OnnxImportError(file, `input preprocessing has ${a.length} values for ${inputShape[0]} channels`);
    }
  }
  return {
    graph, host, inputShape: [...inputShape], normalization, normalizationSource, opset,
    producer: `${m.producerName ?? ''} ${m.producerVersion ?? ''}`.trim(),
  };
}

/** Most outputs an imported model may have (each gets a DeQuantStub and a row in every per-output report). */
export const MAX_OUTPUTS = 64;

const nodeShape = (im: ImportContext, id: string): number[] => im.nodes.find((n) => n.id === id)!.shape;

/**
 * A DeQuantStub for the graph output `name`; returns its id. An output of rank 1 (or a squeezed [K, 1, 1]) is
 * [K]; any other keeps its per-sample shape (feature maps, boxes, masks, token embeddings).
 */
function addOutput(im: ImportContext, name: string, quant: string, several: boolean): string {
  const file = im.file;
  const v = im.vals.get(name);
  if (!v) throw new OnnxImportError(file, `output "${name}" is not computed by the graph`);
  if (im.pads.has(name)) throw new OnnxImportError(file, `output "${name}" is a Pad output`);
  if (v.kind !== 'tensor') throw new OnnxImportError(file, `output "${name}" is a constant`);
  if (v.id === quant) throw new OnnxImportError(file, `output "${name}" is the input: the model computes nothing for it`);
  if (im.nodes.some((n) => n.op === 'dequant_stub' && n.inputs[0] === v.id)) {
    throw new OnnxImportError(file, `output "${name}" is the same value as an earlier output`);
  }
  const shape = v.shape.length === 1 || v.squeezed ? [prod(v.shape)] : [...v.shape];
  const id = im.uniqueId(several ? `dequant_${name.replace(/[^A-Za-z0-9_.-]/g, '_')}` : 'dequant');
  im.addNode(id, 'dequant_stub', [v.id], shape);
  return id;
}
