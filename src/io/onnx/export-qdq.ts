/**
 * ONNX QDQ export of a quantized model: the fused float graph with QuantizeLinear/DequantizeLinear
 * pairs, as onnxruntime (onnxruntime-node in the tests, onnxruntime-web in the page) runs it.
 *
 *  - Input: the float tensor the model takes ("input", [N, C, H, W], e.g. pixel/255); outputs: the
 *    float logits ("logits", [N, classes]), or, for a model with several outputs, each under its name
 *    (outputNames: the imported file's output names) with its own shape [N, ...].
 *  - Activations: a QuantizeLinear -> DequantizeLinear pair on the output of every activation site
 *    of the plan (QuantStub, conv, linear, add, relu, average pooling, concat), per tensor, symmetric
 *    (zero point 0), the site's scale; int8 (opset 13), or int16 (opset 21) if any site is int16.
 *  - Weights: int8 initializers per output channel (DequantizeLinear axis 0), quantized with the
 *    fake quant's rule (so DequantizeLinear gives exactly the fake-quantized weight), with the scales
 *    QuantizedModel uses (per-channel min/max, power of two on bernoulli).
 *  - Biases: int32 at scale input_scale * weight_scale[o] (DequantizeLinear axis 0), where the input's
 *    scale is known (the nearest activation site upstream through data-movement ops); float otherwise.
 *  - The weight and bias integers are the converted model's (qdq-integers.ts): byte-equal to what the
 *    fixed-point simulator computes with (tests/onnx-qdq-integers.test.ts).
 *  - Fused nodes are written out as their parts: Conv/Gemm, then Add of the fused add input, then
 *    Relu / Clip(0, 6), then the Q/DQ pair of the site. int32 high-precision outputs have no pair.
 *  - Adds (and Sub, and a fused Conv+Add's add input) are written as the simulator computes them, in exact int64
 *    ops from the converted layer (src/ops/eltwise/qdq-add.ts): a float Add rounds differently from the simulator's
 *    16-bit multipliers and round half up, and deep residual networks amplify each 1-LSB difference.
 *  - A concat's inputs whose scale differs from the output's are rescaled as the simulator rescales them (32-bit
 *    multiplier, shift, round half up, clamp) in exact int64 ops (src/ops/shape/qdq-concat.ts); the others pass through.
 *
 * Differences from the simulator (measured per layer with scripts/qdq-layer-diff.ts --isolated: within 1 LSB, a
 * few values per million): the float conv / linear sums and QuantizeLinear's x / scale (half to even) against the
 * simulator's exact accumulator times its 32-bit multiplier (half up), which part only near a tie.
 * Differences from the fake-quant model: the fake quant rounds f32(x * f32(1 / scale)) with the qconfig's rounding
 * (bpu_round cannot be expressed in ONNX); the int32 bias is rounded. With its graph optimizations on, onnxruntime
 * fuses QDQ patterns into integer kernels with their own requantization (the agreement to report is the unfused
 * graph's: the file's meaning).
 */
import { graphOutputs, outputNames, type Graph, type GraphNode } from '../../graph/ir.ts';
import type { HostParams } from '../../nn/params.ts';
import { quantizeValue } from '../../qmath/fake-quantize.ts';
import type { March } from '../../qmath/march.ts';
import type { RoundingMode } from '../../qmath/rounding.ts';
import type { QuantizedModel } from '../../quant/quantized-model.ts';
import { biasScale, quantizeBias } from '../../qmath/bias.ts';
import { weightScales as weightScalesOf } from '../../quant/int-weights.ts';
import { convertedIntegers, type LayerIntegers } from './qdq-integers.ts';
import { opDef } from '../../ops/registry.ts';
import type { QdqCtx } from '../../ops/types.ts';
import type { IntLayer } from '../../sim/model.ts';
import { attrInt } from './attrs.ts';
import { DataType, encodeModelProto, type AttributeProto, type ModelProto, type NodeProto, type TensorProto } from './proto.ts';

/** Everything the export needs, read back from a QuantizedModel (also what a simulator check needs). */
export interface QuantSnapshot {
  graph: Graph;
  params: HostParams;
  /** Activation site (node id) -> per-tensor scale and integer range. */
  activations: Record<string, { scale: number; quantMin: number; quantMax: number }>;
  /** conv/linear node id -> per-output-channel weight scales and integer range. */
  weights: Record<string, { scales: Float32Array; quantMin: number; quantMax: number }>;
  /** conv/linear nodes with an int32 (unquantized) output. */
  int32Outputs: string[];
  rounding: RoundingMode;
  march: March;
  /** The converted model's conv / linear integers (qdq-integers.ts); null where the graph does not convert. */
  integers?: LayerIntegers | null;
  /** The converted model's layers by node id (qdq-integers.ts); null where the graph does not convert. */
  layers?: Record<string, IntLayer> | null;
}

export class QdqExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QdqExportError';
  }
}

/** Per-output-channel weight scales exactly as QuantizedModel computes them: the converter's own (one source). */
export { weightScalesOf };

/** Weights on their integer grid with the fake quant's rule: clamp(round(f32(w * f32(1 / s)))), per output channel. */
export function quantizeWeightsPerChannel(w: Float32Array, scales: Float32Array, quantMin: number, quantMax: number, rounding: RoundingMode): Int32Array {
  const C = scales.length;
  const inner = w.length / C;
  const out = new Int32Array(w.length);
  for (let c = 0; c < C; c++) {
    const inv = Math.fround(1 / scales[c]);
    for (let i = c * inner; i < (c + 1) * inner; i++) out[i] = Math.min(quantMax, Math.max(quantMin, quantizeValue(w[i], inv, 0, rounding)));
  }
  return out;
}

/** int32 bias at scale f32(inScale * wScale[o]): the simulator's rule (quantizeBias: round half to even, saturated). */
export function quantizeBiasInt32(b: Float32Array, inScale: number, wScales: Float32Array): { q: Int32Array; scales: Float32Array } {
  const scales = Float32Array.from(wScales, (s) => biasScale(inScale, s));
  return { q: quantizeBias(b, inScale, wScales), scales };
}

/** Reads scales and parameters back from the model (weights scales recomputed from the current weights, as the model does). */
export async function snapshotQuantizedModel(qm: QuantizedModel): Promise<QuantSnapshot> {
  const { graph, qconfig } = qm.plan;
  const params = await qm.store.toHost();
  const activations: QuantSnapshot['activations'] = {};
  for (const [id, site] of qm.acts) {
    if (!site.initialized) throw new QdqExportError(`activation ${id} has no scale yet: calibrate first (or run QAT)`);
    activations[id] = { scale: (await qm.be.read(site.qparams))[0], quantMin: site.range.quantMin, quantMax: site.range.quantMax };
  }
  const weights: QuantSnapshot['weights'] = {};
  for (const w of qm.plan.weights) {
    weights[w.node] = {
      scales: weightScalesOf(params[w.param], w.channels, w.quantMin, w.quantMax, qconfig.march),
      quantMin: w.quantMin, quantMax: w.quantMax,
    };
  }
  const { integers, layers } = convertedIntegers(qm.plan, params, Object.fromEntries(Object.entries(activations).map(([id, a]) => [id, a.scale])));
  return { graph, params, activations, weights, int32Outputs: [...qm.plan.int32Outputs], rounding: qconfig.rounding, march: qconfig.march, integers, layers };
}

// ---------------------------------------------------------------------------------------------
// Writing the ONNX graph

function floatTensor(name: string, dims: number[], data: Float32Array): TensorProto {
  return { name, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) };
}

function intTensor(name: string, dims: number[], data: ArrayLike<number>, dataType: number): TensorProto {
  let bytes: Uint8Array;
  if (dataType === DataType.INT8) bytes = new Uint8Array(Int8Array.from(data).buffer);
  else if (dataType === DataType.INT16) bytes = new Uint8Array(Int16Array.from(data).buffer);
  else if (dataType === DataType.INT32) bytes = new Uint8Array(Int32Array.from(data).buffer);
  else if (dataType === DataType.INT64) bytes = new Uint8Array(BigInt64Array.from(Array.from(data, (v) => BigInt(v))).buffer);
  else throw new QdqExportError(`no integer tensor of type ${dataType}`);
  return { name, dims, dataType, rawData: bytes };
}


function actDtype(quantMin: number, quantMax: number): number {
  if (quantMin >= -128 && quantMax <= 127) return DataType.INT8;
  if (quantMin >= -32768 && quantMax <= 32767) return DataType.INT16;
  throw new QdqExportError(`activation range [${quantMin}, ${quantMax}] has no ONNX QuantizeLinear type (int8 or int16)`);
}

/** Builds the QDQ model from a snapshot. */
export function buildQdqOnnx(s: QuantSnapshot, name = s.graph.name): Uint8Array {
  const g = s.graph;
  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  const used = new Set<string>();
  const fresh = (base: string) => {
    let n = base.replace(/[^A-Za-z0-9_./:-]/g, '_');
    for (let k = 1; used.has(n); k++) n = `${base}_${k}`;
    used.add(n);
    return n;
  };
  const node = (op: string, inputs: string[], output: string, attrs: AttributeProto[] = [], nodeName = output): string => {
    nodes.push({ opType: op, input: inputs, output: [output], name: fresh(`${nodeName}:${op}`), attribute: attrs });
    return output;
  };
  const constF = (base: string, dims: number[], data: Float32Array) => { const n = fresh(base); inits.push(floatTensor(n, dims, data)); return n; };
  const constI = (base: string, dims: number[], data: ArrayLike<number>, dt: number) => { const n = fresh(base); inits.push(intTensor(n, dims, data, dt)); return n; };

  const actTypes = Object.values(s.activations).map((a) => actDtype(a.quantMin, a.quantMax));
  const int16 = actTypes.includes(DataType.INT16);
  const opset = int16 ? 21 : 13;

  // ONNX value name of each IR node's (dequantized) output, and the activation scale it carries.
  const value = new Map<string, string>();
  const scaleOf = new Map<string, number | null>();
  const param = (n: GraphNode, role: string): Float32Array => {
    const v = s.params[n.params[role]];
    if (!v) throw new QdqExportError(`node ${n.id}: missing parameter ${n.params[role]}`);
    return v;
  };
  const paramShape = (n: GraphNode, role: string) => g.params.find((p) => p.name === n.params[role])!.shape;

  // The integers behind each quantized ONNX value: a site's QuantizeLinear output, or (a value an op moved
  // unchanged: max pooling, reshape) its scale and type, for a QuantizeLinear written on demand (intOf).
  const ints = new Map<string, { q: string | null; scale: number; dt: number }>();
  const qdq = (id: string, x: string): string => {
    const a = s.activations[id];
    if (!a) return x;
    const dt = actDtype(a.quantMin, a.quantMax);
    const sc = constF(`${id}.act_scale`, [], Float32Array.of(a.scale));
    const zp = constI(`${id}.act_zero_point`, [], [0], dt);
    const q = node('QuantizeLinear', [x, sc, zp], fresh(`${id}.q`), [], id);
    const dq = node('DequantizeLinear', [q, sc, zp], fresh(`${id}.dq`), [], id);
    ints.set(dq, { q, scale: a.scale, dt });
    return dq;
  };
  const intOf = (v: string): string => {
    const i = ints.get(v);
    if (i === undefined) throw new QdqExportError(`value ${v} is not a quantized value (no activation site before it)`);
    if (i.q) return i.q;
    // values on the grid of `scale`: QuantizeLinear gives their integers back exactly
    i.q = node('QuantizeLinear', [v, constF(`${v}.scale`, [], Float32Array.of(i.scale)), constI(`${v}.zero_point`, [], [0], i.dt)], fresh(`${v}.q`));
    return i.q;
  };
  const accScalesOf = (n: GraphNode): Float32Array => {
    const xScale = scaleOf.get(n.inputs[0]) ?? null;
    const ws = s.weights[n.id];
    if (!ws || xScale === null) throw new QdqExportError(`node ${n.id}: no accumulator scale (its input or weights are not quantized)`);
    return quantizeBiasInt32(new Float32Array(ws.scales.length), xScale, ws.scales).scales;
  };

  /** Weight (and bias) inputs of a conv / linear: DequantizeLinear of int8 per-channel weights, int32 bias. */
  const weightInputs = (n: GraphNode, xScale: number | null): string[] => {
    const w = param(n, 'weight');
    const shape = paramShape(n, 'weight');
    const ws = s.weights[n.id];
    let wIn: string;
    let wScales: Float32Array | null = null;
    if (ws) {
      wScales = ws.scales;
      const q = s.integers?.[n.id]?.weight ?? quantizeWeightsPerChannel(w, ws.scales, ws.quantMin, ws.quantMax, s.rounding);
      const dt = ws.quantMin >= -128 && ws.quantMax <= 127 ? DataType.INT8 : DataType.INT16;
      if (dt === DataType.INT16 && !int16) throw new QdqExportError(`node ${n.id}: int16 weights need opset 21`);
      const qn = constI(`${n.params.weight}.quantized`, shape, q, dt);
      const sn = constF(`${n.params.weight}.scale`, [shape[0]], ws.scales);
      const zn = constI(`${n.params.weight}.zero_point`, [shape[0]], new Array(shape[0]).fill(0), dt);
      wIn = node('DequantizeLinear', [qn, sn, zn], fresh(`${n.params.weight}.dq`), [attrInt('axis', 0)], n.id);
    } else {
      wIn = constF(n.params.weight, shape, w);
    }
    const ins = [wIn];
    if (n.params.bias) {
      const b = param(n, 'bias');
      if (wScales && xScale !== null) {
        const { q: own, scales } = quantizeBiasInt32(b, xScale, wScales);
        const q = s.integers?.[n.id]?.bias ?? own;
        const qn = constI(`${n.params.bias}.quantized`, [b.length], q, DataType.INT32);
        const sn = constF(`${n.params.bias}.scale`, [b.length], scales);
        const zn = constI(`${n.params.bias}.zero_point`, [b.length], new Array(b.length).fill(0), DataType.INT32);
        ins.push(node('DequantizeLinear', [qn, sn, zn], fresh(`${n.params.bias}.dq`), [attrInt('axis', 0)], n.id));
      } else {
        ins.push(constF(n.params.bias, [b.length], b));
      }
    }
    return ins;
  };

  const epilogue = (n: GraphNode, y: string): string => {
    const c = ctxOf(n, y);
    if (n.attrs.addInput) y = opDef('add').qdq(n, { ...c, inputs: [y, value.get(n.inputs[1])!] });
    if (n.attrs.act) y = opDef(n.attrs.act).qdq(n, { ...c, inputs: [y] });
    return y;
  };
  /** What an op's qdq part may use while writing node n (src/ops/types.ts QdqCtx). */
  const ctxOf = (n: GraphNode, x: string | undefined): QdqCtx => {
    const xScale = n.inputs.length ? scaleOf.get(n.inputs[0]) ?? null : null;
    const c: QdqCtx = {
      inputs: x === undefined ? [] : [x, ...n.inputs.slice(1).map((i) => value.get(i)!)],
      emit: (op, inputs, suffix, attrs = []) => node(op, inputs, fresh(`${n.id}.${suffix}`), attrs, n.id),
      constF, constI,
      param: (role) => param(n, role),
      paramShape: (role) => paramShape(n, role),
      weightInputs: () => weightInputs(n, xScale),
      epilogue: (y) => epilogue(n, y),
      graphInput: () => { used.add('input'); return 'input'; },
      opset,
      layer: s.layers?.[n.id],
      intOf,
      outScale: s.activations[n.id]?.scale ?? null,
      accScales: () => accScalesOf(n),
    };
    return c;
  };

  // Each node writes itself through its OpDef (src/ops); the export adds the Q/DQ pair of its activation site.
  for (const n of g.nodes) {
    const x = n.inputs.length ? value.get(n.inputs[0]) : undefined;
    if (n.inputs.length && x === undefined) throw new QdqExportError(`node ${n.id}: input ${n.inputs[0]} not computed`);
    const xScale = n.inputs.length ? scaleOf.get(n.inputs[0]) ?? null : null;
    const def = opDef(n.op);
    let y = def.qdq(n, ctxOf(n, x));
    // Scale carried by the output: its own site, or (an op that moves values) its input's.
    const outScale: number | null = s.activations[n.id]?.scale ?? (def.quant.output === 'inherit' || def.quant.region === 'enter' ? xScale : null);
    if (s.activations[n.id]) y = qdq(n.id, y);
    else if (outScale !== null && !ints.has(y)) {
      // an op that moves values keeps its input's integer type
      const from = n.inputs.length ? ints.get(value.get(n.inputs[0])!) : undefined;
      if (from) ints.set(y, { q: null, scale: outScale, dt: from.dt });
    }
    value.set(n.id, y);
    scaleOf.set(n.id, outScale);
  }
  // Every output under its name ('logits' for one output, else the file's output names: outputNames).
  const names = outputNames(g);
  const outs = graphOutputs(g).map((id, k) => {
    const v = value.get(id);
    if (!v) throw new QdqExportError(`graph ${g.name}: output ${id} not computed`);
    node('Identity', [v], names[k], [], k === 0 ? 'output' : `output_${k}`);
    const shape = g.nodes.find((n) => n.id === id)?.shape ?? [g.numClasses];
    return { name: names[k], shape };
  });

  const inputShape = g.inputShape;
  const model: ModelProto = {
    irVersion: opset >= 21 ? 10 : 7,
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'quant-studio',
    producerVersion: '0.1.0',
    docString: `QDQ export of ${g.name} (rounding ${s.rounding}, march ${s.march})`,
    graph: {
      name: name || 'quantized',
      node: nodes,
      initializer: inits,
      input: [{ name: 'input', type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimParam: 'N' }, ...inputShape.map((d) => ({ dimValue: d }))] } } } }],
      output: outs.map((o) => ({ name: o.name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimParam: 'N' }, ...o.shape.map((d) => ({ dimValue: d }))] } } } })),
    },
  };
  return encodeModelProto(model);
}

/**
 * Exports the quantized model (its current scales and weights) as an ONNX QDQ model; in Node, also
 * writes it to `file` when given.
 */
export async function exportQdqOnnx(qm: QuantizedModel, file?: string): Promise<Uint8Array> {
  const bytes = buildQdqOnnx(await snapshotQuantizedModel(qm));
  if (file) {
    const fsModule = 'node:fs/promises'; // Node only; kept out of the page bundle
    const { writeFile } = (await import(/* @vite-ignore */ fsModule)) as typeof import('node:fs/promises');
    await writeFile(file, bytes);
  }
  return bytes;
}
