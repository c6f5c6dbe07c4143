/**
 * ONNX import: a .onnx file (opsets 11 to 17) into the graph IR the zoo models use, so fusion,
 * calibration, QAT, the simulator and the viewer work on it unchanged.
 *
 * Supported: Conv (group, dilations, strides, pads, auto_pad), BatchNormalization (inference),
 * Relu, Clip as ReLU (0, inf) or ReLU6 (0, 6) with min/max as attributes, Constant or initializer
 * inputs, Add (of two equal-shaped tensors, or of a constant bias folded into the preceding
 * MatMul/Gemm/Conv), Gemm, MatMul (+Add), GlobalAveragePool, AveragePool, MaxPool, Flatten (axis 1),
 * Reshape with a constant shape that keeps the batch dimension, Concat on channels, Identity,
 * Constant, Dropout (removed), and zero Pad folded into the following Conv / AveragePool.
 * Weights: float32 initializers (raw_data or float_data). External data is refused.
 *
 * The imported graph: input -> QuantStub ('quant') -> the model -> DeQuantStub ('dequant'), per-sample
 * shapes, node ids from the ONNX node names (leading '/' dropped, so the exporter's module path
 * becomes the namespace), parameters named `<node id>.weight` etc. Nodes whose value does not reach
 * the output are dropped.
 *
 * Anything else (an op outside the list, a dynamic dimension, a malformed file) throws OnnxImportError
 * naming the node, the op and the reason; the importer never hangs (every loop is bounded by the
 * file's size) and never allocates more than the file's data implies.
 */
import { outSize, type Conv2dParams, type Pool2dParams } from '../../engine/backend.ts';
import type { Graph, GraphNode, NodeAttrs, OpType, ParamSpec } from '../../graph/ir.ts';
import { validateGraph } from '../../graph/passes/util.ts';
import type { Normalization } from '../../data/loader.ts';
import type { HostParams } from '../../nn/params.ts';
import {
  AttrType, DATA_TYPE_NAMES, DataType, decodeModelProto, has, int64,
  type AttributeProto, type GraphProto, type ModelProto, type NodeProto, type TensorProto,
} from './proto.ts';

export const MIN_OPSET = 11;
export const MAX_OPSET = 17;

export const SUPPORTED_OPS = [
  'Conv', 'BatchNormalization', 'Relu', 'Clip', 'Add', 'Gemm', 'MatMul', 'GlobalAveragePool', 'AveragePool',
  'MaxPool', 'Flatten', 'Reshape', 'Concat', 'Identity', 'Constant', 'Dropout', 'Pad',
] as const;

/** An import failure: the file, and where known the node and op, and why. */
export class OnnxImportError extends Error {
  constructor(readonly file: string, readonly reason: string, readonly node?: string, readonly op?: string) {
    super(`${file}: ${node !== undefined || op !== undefined ? `node "${node ?? '?'}" (${op ?? '?'}): ` : ''}${reason}`);
    this.name = 'OnnxImportError';
  }
}

/** Input preprocessing as the user states it: x = (pixel * scale - mean) / std (mean/std per channel or one). */
export interface InputPreprocessing {
  scale?: number;
  mean?: number[];
  std?: number[];
}

export interface OnnxImportOptions {
  /** Per-sample input shape [C, H, W], for a file whose input dimensions are symbolic. */
  inputShape?: number[];
  /** Preprocessing; overrides the file's metadata (keys input_scale, input_mean, input_std). */
  preprocessing?: InputPreprocessing;
  /** Graph name (default: the file name without .onnx). */
  name?: string;
}

export interface OnnxImportResult {
  graph: Graph;
  host: HostParams;
  /** Per-sample input shape [C, H, W]. */
  inputShape: number[];
  /** The data loader's normalization for this model's input. */
  normalization: Normalization;
  /** Where the normalization came from. */
  normalizationSource: 'options' | 'file' | 'default';
  opset: number;
  producer: string;
}

/** The loader's Normalization for x = (pixel * scale - mean) / std; 'pixel/255' when that is what it is. */
export function normalizationFrom(p: InputPreprocessing): Normalization {
  const scale = p.scale ?? 1 / 255;
  const mean = p.mean ?? [0];
  const std = p.std ?? [1];
  if (!(Number.isFinite(scale) && scale > 0)) throw new RangeError(`input scale must be a positive number, got ${scale}`);
  if (!mean.length || !std.length || ![...mean, ...std].every(Number.isFinite) || !std.every((s) => s > 0)) {
    throw new RangeError(`input mean/std must be finite numbers (std > 0), got mean [${mean}] std [${std}]`);
  }
  if (Math.abs(scale * 255 - 1) < 1e-9 && mean.every((m) => m === 0) && std.every((s) => s === 1)) return 'pixel/255';
  // (p * scale - m) / s = (p / 255 - m / (255 scale)) / (s / (255 scale))
  const k = 255 * scale;
  return { mean: mean.map((m) => m / k), std: std.map((s) => s / k) };
}

// ---------------------------------------------------------------------------------------------
// Values during import

interface TensorVal {
  kind: 'tensor';
  /** IR node id producing the value. */
  id: string;
  /** Per-sample ONNX shape (batch excluded). */
  shape: number[];
  /** The IR value is [C] while the ONNX value is [C, 1, 1] (a GlobalAveragePool output). */
  squeezed?: boolean;
}

interface ConstVal {
  kind: 'const';
  dims: number[];
  /** float for float tensors, numbers for integer tensors. */
  data: Float32Array | number[];
  dataType: number;
}

/** An initializer or Constant tensor, decoded when first read (an unused odd-typed one does no harm). */
interface LazyVal {
  kind: 'lazy';
  t: TensorProto;
  what: string;
}

type Val = TensorVal | ConstVal;

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const MAX_ELEMENTS = 2 ** 31;

class Importer {
  nodes: GraphNode[] = [];
  params: ParamSpec[] = [];
  host: HostParams = {};
  vals = new Map<string, Val | LazyVal>();
  ids = new Set<string>();
  /** Zero padding of a Pad output, folded into its Conv / AveragePool consumer: [top, left, bottom, right]. */
  pads = new Map<string, { src: string; pads: number[] }>();
  /** How many node inputs (and graph outputs) read each ONNX value. */
  uses = new Map<string, number>();
  // The node being imported, for error messages.
  cur: { name: string; op: string } | null = null;

  constructor(readonly file: string, readonly opset: number) {}

  fail(reason: string): never {
    if (this.cur) throw new OnnxImportError(this.file, reason, this.cur.name, this.cur.op);
    throw new OnnxImportError(this.file, reason);
  }

  uniqueId(base: string): string {
    let id = base || 'node';
    for (let k = 1; this.ids.has(id); k++) id = `${base}_${k}`;
    this.ids.add(id);
    return id;
  }

  addNode(id: string, op: OpType, inputs: string[], shape: number[], attrs: NodeAttrs = {}, params: Record<string, string> = {}): string {
    const namespace = id.includes('/') ? id.slice(0, id.lastIndexOf('/')) : '';
    this.nodes.push({ id, op, inputs, attrs, params, namespace, shape });
    return id;
  }

  addParam(name: string, data: Float32Array, shape: number[], init: ParamSpec['init'], kind: ParamSpec['kind'] = 'param', fanIn?: number): string {
    let n = name;
    for (let k = 1; n in this.host; k++) n = `${name}_${k}`;
    this.params.push({ name: n, shape, init, kind, ...(fanIn !== undefined ? { fanIn } : {}) });
    this.host[n] = data;
    return n;
  }

  // ---- values ----

  val(name: string): Val {
    const v = this.vals.get(name);
    if (!v) this.fail(`input "${name}" is not a graph input, an initializer or the output of an earlier node`);
    if (v.kind !== 'lazy') return v;
    const c = this.decodeTensor(v.t, v.what);
    this.vals.set(name, c);
    return c;
  }

  tensor(name: string, what = 'input'): TensorVal {
    if (this.pads.has(name)) this.fail(`${what} "${name}" is a Pad output; only zero padding folded into a following Conv or AveragePool is supported`);
    const v = this.val(name);
    if (v.kind !== 'tensor') this.fail(`${what} "${name}" is a constant; a computed tensor is expected here`);
    return v;
  }

  constant(name: string | undefined, what: string): ConstVal {
    if (!name) this.fail(`missing ${what}`);
    const v = this.val(name);
    if (v.kind !== 'const') this.fail(`${what} "${name}" must be a constant (initializer or Constant); it is computed at run time`);
    return v;
  }

  floats(c: ConstVal, what: string): Float32Array {
    if (!(c.data instanceof Float32Array)) this.fail(`${what} has data type ${DATA_TYPE_NAMES[c.dataType] ?? c.dataType}; float32 is expected`);
    return c.data;
  }

  ints(c: ConstVal, what: string): number[] {
    if (c.data instanceof Float32Array) this.fail(`${what} must be an integer tensor`);
    return c.data;
  }

  /** A scalar (or one-element) float constant. */
  scalar(name: string, what: string): number {
    const c = this.constant(name, what);
    if (c.data.length !== 1) this.fail(`${what} must have one element, has ${c.data.length}`);
    return Number(c.data[0]);
  }

  /** The IR value of `v` with its ONNX rank restored (a [C] GlobalAveragePool output becomes [C, 1, 1]). */
  materialize(v: TensorVal, base: string): string {
    if (!v.squeezed) return v.id;
    const id = this.uniqueId(`${base}/unsqueeze`);
    this.addNode(id, 'reshape', [v.id], [...v.shape], { shape: [...v.shape] });
    const m: TensorVal = { kind: 'tensor', id, shape: v.shape };
    v.id = m.id;
    v.squeezed = false;
    return id;
  }

  // ---- tensors ----

  decodeTensor(t: TensorProto, what: string): ConstVal {
    if ((t.dataLocation ?? 0) === 1 || (t.externalData && t.externalData.length)) {
      this.fail(`${what} keeps its data in an external file; external data is not supported: re-save the model with all tensors inside ` +
        `the .onnx (onnx.save_model(model, path, save_as_external_data=False))`);
    }
    const dims = (t.dims ?? []).map((d) => int64(d));
    if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) this.fail(`${what} has invalid dimensions [${dims}]`);
    const count = prod(dims);
    if (!(count <= MAX_ELEMENTS)) this.fail(`${what} has too many elements (${count})`);
    const dt = t.dataType ?? 0;
    const raw = t.rawData && t.rawData.length ? t.rawData : null;
    const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
    const checkRaw = (bytes: number) => {
      if (raw!.length !== count * bytes) this.fail(`${what}: raw_data has ${raw!.length} bytes, [${dims}] of ${DATA_TYPE_NAMES[dt]} needs ${count * bytes}`);
    };
    const checkLen = (n: number, field: string) => {
      if (n !== count) this.fail(`${what}: ${field} has ${n} values, shape [${dims}] needs ${count}`);
    };
    switch (dt) {
      case DataType.FLOAT: {
        if (raw) {
          checkRaw(4);
          const out = new Float32Array(count);
          for (let i = 0; i < count; i++) out[i] = view!.getFloat32(4 * i, true);
          return { kind: 'const', dims, data: out, dataType: dt };
        }
        checkLen(t.floatData?.length ?? 0, 'float_data');
        return { kind: 'const', dims, data: Float32Array.from(t.floatData ?? []), dataType: dt };
      }
      case DataType.INT64: {
        if (raw) {
          checkRaw(8);
          const out: number[] = [];
          for (let i = 0; i < count; i++) out.push(Number(view!.getBigInt64(8 * i, true)));
          return { kind: 'const', dims, data: out, dataType: dt };
        }
        checkLen(t.int64Data?.length ?? 0, 'int64_data');
        return { kind: 'const', dims, data: (t.int64Data ?? []).map((x) => int64(x)), dataType: dt };
      }
      case DataType.INT32: {
        if (raw) {
          checkRaw(4);
          const out: number[] = [];
          for (let i = 0; i < count; i++) out.push(view!.getInt32(4 * i, true));
          return { kind: 'const', dims, data: out, dataType: dt };
        }
        checkLen(t.int32Data?.length ?? 0, 'int32_data');
        return { kind: 'const', dims, data: [...(t.int32Data ?? [])], dataType: dt };
      }
      case DataType.BOOL: case DataType.UINT8: case DataType.INT8: {
        if (raw) {
          checkRaw(1);
          return { kind: 'const', dims, data: Array.from(dt === DataType.INT8 ? new Int8Array(raw.buffer, raw.byteOffset, count) : raw), dataType: dt };
        }
        checkLen(t.int32Data?.length ?? 0, 'int32_data');
        return { kind: 'const', dims, data: [...(t.int32Data ?? [])], dataType: dt };
      }
      case DataType.DOUBLE: {
        // Accepted for small constants (e.g. Clip bounds); converted to float32.
        if (raw) {
          checkRaw(8);
          const out = new Float32Array(count);
          for (let i = 0; i < count; i++) out[i] = view!.getFloat64(8 * i, true);
          return { kind: 'const', dims, data: out, dataType: DataType.FLOAT };
        }
        checkLen(t.doubleData?.length ?? 0, 'double_data');
        return { kind: 'const', dims, data: Float32Array.from(t.doubleData ?? []), dataType: DataType.FLOAT };
      }
      default:
        this.fail(`${what} has data type ${DATA_TYPE_NAMES[dt] ?? dt}; only float32 weights (and int64/int32 shapes) are supported`);
    }
  }

  // ---- attributes ----

  attr(n: NodeProto, name: string): AttributeProto | undefined {
    return (n.attribute ?? []).find((a) => a.name === name);
  }

  attrInt(n: NodeProto, name: string, fallback: number): number {
    const a = this.attr(n, name);
    if (!a) return fallback;
    if (a.type !== AttrType.INT) this.fail(`attribute ${name} must be an int`);
    return int64(a.i);
  }

  attrFloat(n: NodeProto, name: string, fallback: number): number {
    const a = this.attr(n, name);
    if (!a) return fallback;
    if (a.type !== AttrType.FLOAT) this.fail(`attribute ${name} must be a float`);
    return a.f ?? 0;
  }

  attrInts(n: NodeProto, name: string): number[] | undefined {
    const a = this.attr(n, name);
    if (!a) return undefined;
    if (a.type !== AttrType.INTS) this.fail(`attribute ${name} must be a list of ints`);
    return (a.ints ?? []).map((x) => int64(x));
  }

  attrString(n: NodeProto, name: string, fallback: string): string {
    const a = this.attr(n, name);
    if (!a) return fallback;
    if (a.type !== AttrType.STRING) this.fail(`attribute ${name} must be a string`);
    return new TextDecoder().decode(a.s ?? new Uint8Array());
  }

  /** Only these outputs of a node may be read (e.g. Dropout's mask, MaxPool's indices must be unused). */
  onlyFirstOutput(n: NodeProto, what: string): void {
    for (const o of (n.output ?? []).slice(1)) if (o && this.uses.get(o)) this.fail(`${what} (output "${o}") is used; it is not supported`);
  }

  // ---- spatial attributes shared by Conv and the pools ----

  /**
   * [padH, padW] from pads / auto_pad (plus a folded Pad), checked symmetric: the engine pads the same
   * amount on both sides.
   */
  spatialPads(n: NodeProto, inHW: number[], kernel: number[], strides: number[], dilations: number[], extra?: number[]): [number, number] {
    let pads = this.rawPads(n, inHW, kernel, strides, dilations);
    if (extra) pads = pads.map((p, i) => p + extra[i]);
    if (pads.some((p) => !Number.isSafeInteger(p) || p < 0)) this.fail(`invalid pads [${pads}]`);
    if (pads[0] !== pads[2] || pads[1] !== pads[3]) {
      this.fail(`asymmetric padding [top ${pads[0]}, left ${pads[1]}, bottom ${pads[2]}, right ${pads[3]}] is not supported ` +
        `(the engine pads both sides equally)`);
    }
    return [pads[0], pads[1]];
  }

  /** [top, left, bottom, right] from the pads and auto_pad attributes. */
  rawPads(n: NodeProto, inHW: number[], kernel: number[], strides: number[], dilations: number[]): number[] {
    const autoPad = this.attrString(n, 'auto_pad', 'NOTSET');
    let pads = this.attrInts(n, 'pads') ?? [0, 0, 0, 0];
    if (pads.length !== 4) this.fail(`pads must have 4 values for a 2-D op, has ${pads.length}`);
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      pads = [0, 0, 0, 0];
      for (let d = 0; d < 2; d++) {
        const out = Math.ceil(inHW[d] / strides[d]);
        const total = Math.max(0, (out - 1) * strides[d] + (kernel[d] - 1) * dilations[d] + 1 - inHW[d]);
        const small = Math.floor(total / 2);
        pads[d] = autoPad === 'SAME_UPPER' ? small : total - small;
        pads[d + 2] = total - pads[d];
      }
    } else if (autoPad === 'VALID') {
      pads = [0, 0, 0, 0];
    } else if (autoPad !== 'NOTSET') {
      this.fail(`auto_pad "${autoPad}" is not a known value`);
    }
    return pads;
  }

  pair(n: NodeProto, name: string, fallback: number): number[] {
    const v = this.attrInts(n, name) ?? [fallback, fallback];
    if (v.length !== 2 || v.some((x) => !Number.isSafeInteger(x) || x < 1)) this.fail(`${name} must be two positive integers, got [${v}]`);
    return v;
  }

  /** The Pad folded into this input, if any: returns the unpadded value and [top, left, bottom, right]. */
  paddedInput(name: string): { v: TensorVal; extra?: number[] } {
    const p = this.pads.get(name);
    if (!p) return { v: this.tensor(name) };
    this.pads.delete(name);
    return { v: this.tensor(p.src), extra: p.pads };
  }

  // ---- ops ----

  importNode(n: NodeProto, index: number): void {
    const op = n.opType ?? '';
    const rawName = n.name || `${op || 'node'}_${index}`;
    this.cur = { name: rawName, op };
    if (n.domain && n.domain !== 'ai.onnx') this.fail(`operator domain "${n.domain}" is not supported (only the default ONNX domain)`);
    const inputs = n.input ?? [];
    const outputs = n.output ?? [];
    if (!outputs.length || !outputs[0]) this.fail('the node has no output');
    const out = outputs[0];
    const base = rawName.replace(/^\/+/, '');
    const set = (v: Val) => this.vals.set(out, v);
    const alias = (name: string) => {
      if (!name) this.fail('missing input');
      if (this.pads.has(name)) {
        this.pads.set(out, this.pads.get(name)!);
        return;
      }
      set(this.val(name));
    };

    switch (op) {
      case 'Constant': {
        const a = (n.attribute ?? [])[0];
        if (!a || (n.attribute ?? []).length !== 1) this.fail('Constant needs exactly one value attribute');
        switch (a.name) {
          case 'value': if (!a.t) this.fail('Constant value has no tensor'); this.vals.set(out, { kind: 'lazy', t: a.t, what: `Constant "${out}"` }); return;
          case 'value_float': set({ kind: 'const', dims: [], data: Float32Array.of(a.f ?? 0), dataType: DataType.FLOAT }); return;
          case 'value_floats': set({ kind: 'const', dims: [a.floats?.length ?? 0], data: Float32Array.from(a.floats ?? []), dataType: DataType.FLOAT }); return;
          case 'value_int': set({ kind: 'const', dims: [], data: [int64(a.i)], dataType: DataType.INT64 }); return;
          case 'value_ints': set({ kind: 'const', dims: [a.ints?.length ?? 0], data: (a.ints ?? []).map((x) => int64(x)), dataType: DataType.INT64 }); return;
          default: this.fail(`Constant with attribute ${a.name} is not supported`);
        }
        return;
      }
      case 'Identity':
        alias(inputs[0]);
        return;
      case 'Dropout': {
        this.onlyFirstOutput(n, 'the dropout mask');
        if (inputs[2]) {
          const tm = this.constant(inputs[2], 'training_mode');
          if (tm.data.length !== 1 || Number(tm.data[0]) !== 0) this.fail('Dropout in training mode is not supported');
        }
        alias(inputs[0]);
        return;
      }
      case 'Pad': {
        const mode = this.attrString(n, 'mode', 'constant');
        if (mode !== 'constant') this.fail(`Pad mode "${mode}" is not supported (only constant zero padding)`);
        const pads = this.opset >= 11 ? this.ints(this.constant(inputs[1], 'pads'), 'pads') : this.attrInts(n, 'pads') ?? [];
        const value = this.opset >= 11 ? (inputs[2] ? this.scalar(inputs[2], 'constant_value') : 0) : this.attrFloat(n, 'value', 0);
        if (inputs[3]) this.fail('Pad with axes is not supported');
        const x = this.tensor(inputs[0]);
        if (x.shape.length !== 3 || pads.length !== 8) this.fail(`Pad of a rank-${x.shape.length + 1} tensor with ${pads.length} pads; only NCHW spatial padding is supported`);
        if (pads[0] || pads[1] || pads[4] || pads[5]) this.fail('Pad on the batch or channel dimension is not supported');
        if (pads.some((p) => p < 0)) this.fail('negative Pad (cropping) is not supported');
        const extra = [pads[2], pads[3], pads[6], pads[7]];
        if (extra.every((p) => p === 0)) { alias(inputs[0]); return; }
        if (value !== 0) this.fail(`Pad with value ${value} is not supported (only zero padding)`);
        this.pads.set(out, { src: inputs[0], pads: extra });
        return;
      }
      case 'Conv': {
        const { v: x, extra } = this.paddedInput(inputs[0]);
        if (x.shape.length !== 3) this.fail(`Conv input must be NCHW, has rank ${x.shape.length + 1}`);
        const xid = this.materialize(x, base);
        const wc = this.constant(inputs[1], 'weight');
        const w = this.floats(wc, 'weight');
        if (wc.dims.length !== 4) this.fail(`weight must be [O, C/group, kH, kW], has shape [${wc.dims}]`);
        const [O, Cg, kh, kw] = wc.dims;
        const group = this.attrInt(n, 'group', 1);
        const [C, H, W] = x.shape;
        if (!(group >= 1) || C % group || O % group || Cg * group !== C || O === 0 || kh === 0 || kw === 0) {
          this.fail(`weight [${wc.dims}] with group ${group} does not fit ${C} input channels`);
        }
        const ks = this.attrInts(n, 'kernel_shape');
        if (ks && (ks.length !== 2 || ks[0] !== kh || ks[1] !== kw)) this.fail(`kernel_shape [${ks}] disagrees with the weight [${wc.dims}]`);
        const strides = this.pair(n, 'strides', 1);
        const dil = this.pair(n, 'dilations', 1);
        const [padH, padW] = this.spatialPads(n, [H, W], [kh, kw], strides, dil, extra);
        const p: Conv2dParams = { strideH: strides[0], strideW: strides[1], padH, padW, dilationH: dil[0], dilationW: dil[1], groups: group };
        const oh = outSize(H, kh, p.strideH, padH, p.dilationH), ow = outSize(W, kw, p.strideW, padW, p.dilationW);
        if (!(oh > 0 && ow > 0)) this.fail(`output would be empty (${oh}x${ow})`);
        const id = this.uniqueId(base);
        const fanIn = Cg * kh * kw;
        const params: Record<string, string> = { weight: this.addParam(`${id}.weight`, w.slice(), [O, Cg, kh, kw], 'kaiming_uniform', 'param', fanIn) };
        if (inputs[2]) {
          const b = this.floats(this.constant(inputs[2], 'bias'), 'bias');
          if (b.length !== O) this.fail(`bias has ${b.length} values, the conv ${O} output channels`);
          params.bias = this.addParam(`${id}.bias`, b.slice(), [O], 'bias_uniform', 'param', fanIn);
        }
        this.addNode(id, 'conv2d', [xid], [O, oh, ow], { conv: p }, params);
        set({ kind: 'tensor', id, shape: [O, oh, ow] });
        return;
      }
      case 'BatchNormalization': {
        this.onlyFirstOutput(n, 'the running statistics outputs (training mode)');
        if (this.attrInt(n, 'training_mode', 0) !== 0) this.fail('training_mode=1 is not supported (export the model in eval mode)');
        const x = this.tensor(inputs[0]);
        const xid = this.materialize(x, base);
        const c = x.shape[0];
        if (x.shape.length !== 3 && x.shape.length !== 1) this.fail(`input must be [N, C, H, W] or [N, C], has rank ${x.shape.length + 1}`);
        const roles = ['weight', 'bias', 'running_mean', 'running_var'] as const;
        const names = ['scale', 'B', 'input_mean', 'input_var'];
        const id = this.uniqueId(base);
        const params: Record<string, string> = {};
        roles.forEach((role, i) => {
          const t = this.floats(this.constant(inputs[i + 1], names[i]), names[i]);
          if (t.length !== c) this.fail(`${names[i]} has ${t.length} values for ${c} channels`);
          params[role] = this.addParam(`${id}.${role}`, t.slice(), [c], i === 0 || i === 3 ? 'ones' : 'zeros', i >= 2 ? 'buffer' : 'param');
        });
        const eps = this.attrFloat(n, 'epsilon', 1e-5);
        const momentum = 1 - this.attrFloat(n, 'momentum', 0.9);
        if (!(eps >= 0)) this.fail(`epsilon ${eps} is invalid`);
        this.addNode(id, 'batchnorm2d', [xid], [...x.shape], { eps, momentum: Number.isFinite(momentum) ? momentum : 0.1 }, params);
        set({ kind: 'tensor', id, shape: [...x.shape] });
        return;
      }
      case 'Relu': {
        const x = this.tensor(inputs[0]);
        const id = this.uniqueId(base);
        this.addNode(id, 'relu', [x.id], x.squeezed ? [x.shape[0]] : [...x.shape]);
        set({ ...x, id });
        return;
      }
      case 'Clip': {
        let lo = -Infinity, hi = Infinity;
        if (this.opset >= 11) {
          if (inputs[1]) lo = this.scalar(inputs[1], 'min');
          if (inputs[2]) hi = this.scalar(inputs[2], 'max');
        } else {
          lo = this.attrFloat(n, 'min', -Infinity);
          hi = this.attrFloat(n, 'max', Infinity);
        }
        // Tolerate attribute-style bounds too (some hand-written files use them at any opset).
        if (!inputs[1] && this.attr(n, 'min')) lo = this.attrFloat(n, 'min', lo);
        if (!inputs[2] && this.attr(n, 'max')) hi = this.attrFloat(n, 'max', hi);
        let act: OpType;
        if (lo === 0 && hi === 6) act = 'relu6';
        else if (lo === 0 && hi === Infinity) act = 'relu';
        else this.fail(`Clip(${lo}, ${hi}) is not supported: only ReLU (0, inf) and ReLU6 (0, 6)`);
        const x = this.tensor(inputs[0]);
        const id = this.uniqueId(base);
        this.addNode(id, act, [x.id], x.squeezed ? [x.shape[0]] : [...x.shape]);
        set({ ...x, id });
        return;
      }
      case 'Add': {
        if (inputs.length !== 2) this.fail(`Add needs 2 inputs, has ${inputs.length}`);
        const a = this.val(inputs[0]), b = this.val(inputs[1]);
        if (a.kind === 'tensor' && b.kind === 'tensor') {
          this.tensor(inputs[0]);
          this.tensor(inputs[1]);
          if (a.shape.join() !== b.shape.join()) this.fail(`Add of [${a.shape}] and [${b.shape}] (per sample): broadcasting is not supported`);
          let ia = a.id, ib = b.id;
          if (a.squeezed !== b.squeezed) { ia = this.materialize(a, base); ib = this.materialize(b, base); }
          const id = this.uniqueId(base);
          this.addNode(id, 'add', [ia, ib], a.squeezed && b.squeezed ? [a.shape[0]] : [...a.shape]);
          set({ kind: 'tensor', id, shape: [...a.shape], squeezed: a.squeezed && b.squeezed });
          return;
        }
        if (a.kind === 'const' && b.kind === 'const') this.fail('Add of two constants is not supported');
        const t = (a.kind === 'tensor' ? a : b) as TensorVal;
        const c = (a.kind === 'const' ? a : b) as ConstVal;
        this.tensor(a.kind === 'tensor' ? inputs[0] : inputs[1]);
        this.foldBias(t, this.floats(c, 'the added constant'), c.dims);
        set(t);
        return;
      }
      case 'Gemm': {
        const x = this.tensor(inputs[0]);
        if (x.shape.length !== 1 && !x.squeezed) this.fail(`Gemm input must be [N, features], has per-sample shape [${x.shape}]`);
        if (this.attrInt(n, 'transA', 0) !== 0) this.fail('transA=1 is not supported');
        const transB = this.attrInt(n, 'transB', 0);
        const alpha = this.attrFloat(n, 'alpha', 1), beta = this.attrFloat(n, 'beta', 1);
        const bc = this.constant(inputs[1], 'B');
        const B = this.floats(bc, 'B');
        if (bc.dims.length !== 2) this.fail(`B must be 2-D, has shape [${bc.dims}]`);
        const inF = prod(x.shape);
        const [outF, k] = transB ? bc.dims : [bc.dims[1], bc.dims[0]];
        if (k !== inF || outF === 0) this.fail(`B [${bc.dims}] (transB ${transB}) does not fit ${inF} input features`);
        const w = new Float32Array(outF * inF);
        for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) w[o * inF + i] = alpha * (transB ? B[o * inF + i] : B[i * outF + o]);
        let bias: Float32Array | null = null;
        if (inputs[2]) {
          const cc = this.constant(inputs[2], 'C');
          const C = this.floats(cc, 'C');
          bias = new Float32Array(outF);
          if (C.length === outF && (cc.dims.length <= 1 || cc.dims[cc.dims.length - 1] === outF)) for (let o = 0; o < outF; o++) bias[o] = beta * C[o];
          else if (C.length === 1) bias.fill(beta * C[0]);
          else this.fail(`C of shape [${cc.dims}] is not a per-output bias for ${outF} outputs`);
        }
        set(this.linear(base, x, w, outF, inF, bias));
        return;
      }
      case 'MatMul': {
        const x = this.tensor(inputs[0]);
        if (x.shape.length !== 1 && !x.squeezed) this.fail(`MatMul input must be [N, features], has per-sample shape [${x.shape}]`);
        const bc = this.constant(inputs[1], 'B (the weight)');
        const B = this.floats(bc, 'B');
        const inF = prod(x.shape);
        if (bc.dims.length !== 2 || bc.dims[0] !== inF || bc.dims[1] === 0) this.fail(`B [${bc.dims}] does not fit ${inF} input features`);
        const outF = bc.dims[1];
        const w = new Float32Array(outF * inF);
        for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) w[o * inF + i] = B[i * outF + o];
        set(this.linear(base, x, w, outF, inF, null));
        return;
      }
      case 'GlobalAveragePool': {
        const x = this.tensor(inputs[0]);
        if (x.shape.length !== 3) this.fail(`input must be NCHW, has per-sample shape [${x.shape}]`);
        const xid = this.materialize(x, base);
        const id = this.uniqueId(base);
        this.addNode(id, 'global_avgpool', [xid], [x.shape[0]]);
        set({ kind: 'tensor', id, shape: [x.shape[0], 1, 1], squeezed: true });
        return;
      }
      case 'AveragePool':
      case 'MaxPool': {
        const max = op === 'MaxPool';
        if (max) this.onlyFirstOutput(n, 'the indices output');
        const { v: x, extra } = max ? { v: this.tensor(inputs[0]), extra: undefined } : this.paddedInput(inputs[0]);
        if (x.shape.length !== 3) this.fail(`input must be NCHW, has per-sample shape [${x.shape}]`);
        const xid = this.materialize(x, base);
        const k = this.attrInts(n, 'kernel_shape');
        if (!k || k.length !== 2 || k.some((v) => !Number.isSafeInteger(v) || v < 1)) this.fail(`kernel_shape must be two positive integers, got [${k ?? ''}]`);
        const strides = this.pair(n, 'strides', 1);
        const dil = this.pair(n, 'dilations', 1);
        if (dil[0] !== 1 || dil[1] !== 1) this.fail(`pooling dilations [${dil}] are not supported`);
        const [C, H, W] = x.shape;
        const [padH, padW] = this.spatialPads(n, [H, W], k, strides, [1, 1], extra);
        const ownPadded = this.rawPads(n, [H, W], k, strides, [1, 1]).some((v) => v !== 0);
        if (!max && ownPadded && this.attrInt(n, 'count_include_pad', 0) === 0) {
          this.fail('AveragePool with padding and count_include_pad=0 is not supported (the engine divides by the full kernel area, like PyTorch\'s default)');
        }
        if (2 * padH > k[0] || 2 * padW > k[1]) this.fail(`padding ${padH}x${padW} exceeds half the kernel ${k[0]}x${k[1]}`);
        const p: Pool2dParams = { kernelH: k[0], kernelW: k[1], strideH: strides[0], strideW: strides[1], padH, padW };
        const oh = outSize(H, k[0], p.strideH, padH), ow = outSize(W, k[1], p.strideW, padW);
        if (!(oh > 0 && ow > 0)) this.fail(`output would be empty (${oh}x${ow})`);
        if (this.attrInt(n, 'ceil_mode', 0)) {
          const ceil = (i: number, kk: number, s: number, pd: number) => Math.ceil((i + 2 * pd - kk) / s) + 1;
          if (ceil(H, k[0], strides[0], padH) !== oh || ceil(W, k[1], strides[1], padW) !== ow) this.fail('ceil_mode=1 changes the output size here; it is not supported');
        }
        const id = this.uniqueId(base);
        this.addNode(id, max ? 'maxpool2d' : 'avgpool2d', [xid], [C, oh, ow], { pool: p });
        set({ kind: 'tensor', id, shape: [C, oh, ow] });
        return;
      }
      case 'Flatten': {
        const x = this.tensor(inputs[0]);
        const rank = x.shape.length + 1;
        let axis = this.attrInt(n, 'axis', 1);
        if (axis < 0) axis += rank;
        if (axis !== 1) this.fail(`Flatten with axis ${axis} is not supported (only axis 1, which keeps the batch)`);
        const f = prod(x.shape);
        const id = this.uniqueId(base);
        this.addNode(id, 'flatten', [x.id], [f]);
        set({ kind: 'tensor', id, shape: [f] });
        return;
      }
      case 'Reshape': {
        const x = this.tensor(inputs[0]);
        const target = this.ints(this.constant(inputs[1], 'shape'), 'shape');
        const allowzero = this.attrInt(n, 'allowzero', 0);
        const shape = this.reshapeTarget(x.shape, target, allowzero !== 0);
        const id = this.uniqueId(base);
        this.addNode(id, shape.length === 1 ? 'flatten' : 'reshape', [x.id], shape, shape.length === 1 ? {} : { shape: [...shape] });
        set({ kind: 'tensor', id, shape });
        return;
      }
      case 'Concat': {
        if (!inputs.length) this.fail('Concat has no inputs');
        const xs = inputs.map((i) => this.tensor(i));
        let axis = this.attrInt(n, 'axis', 1);
        const rank = xs[0].shape.length + 1;
        if (axis < 0) axis += rank;
        if (rank !== 4 || axis !== 1) this.fail(`Concat on axis ${axis} of rank-${rank} tensors is not supported (only NCHW channels, axis 1)`);
        for (const v of xs) {
          if (v.shape.length !== 3 || v.shape[1] !== xs[0].shape[1] || v.shape[2] !== xs[0].shape[2]) {
            this.fail(`Concat inputs [${xs.map((q) => `[${q.shape}]`).join(', ')}] differ in spatial size`);
          }
        }
        const ids = xs.map((v) => this.materialize(v, base));
        const shape = [xs.reduce((s, v) => s + v.shape[0], 0), xs[0].shape[1], xs[0].shape[2]];
        const id = this.uniqueId(base);
        this.addNode(id, 'concat', ids, shape);
        set({ kind: 'tensor', id, shape });
        return;
      }
      default:
        this.fail(`operator ${op || '(empty)'} is not supported (supported: ${SUPPORTED_OPS.join(', ')})`);
    }
  }

  /** A linear node on x (per-sample [F], or a GlobalAveragePool's [C, 1, 1] that is [C] in the IR). */
  linear(base: string, x: TensorVal, w: Float32Array, outF: number, inF: number, bias: Float32Array | null): TensorVal {
    const id = this.uniqueId(base);
    const params: Record<string, string> = { weight: this.addParam(`${id}.weight`, w, [outF, inF], 'kaiming_uniform', 'param', inF) };
    if (bias) params.bias = this.addParam(`${id}.bias`, bias, [outF], 'bias_uniform', 'param', inF);
    this.addNode(id, 'linear', [x.id], [outF], {}, params);
    return { kind: 'tensor', id, shape: [outF] };
  }

  /** x + c where x is a conv / linear output read only here and c a per-output-channel constant: c joins the bias. */
  foldBias(x: TensorVal, c: Float32Array, dims: number[]): void {
    const node = this.nodes.find((q) => q.id === x.id);
    // Every ONNX name of this IR value (Identity / Dropout aliases) together is read once: by this Add.
    let reads = 0;
    for (const [k, v] of this.vals) if (v.kind === 'tensor' && v.id === x.id) reads += this.uses.get(k) ?? 0;
    if (!node || (node.op !== 'linear' && node.op !== 'conv2d') || reads !== 1 || x.squeezed) {
      this.fail('Add of a constant is only supported as the bias of the MatMul, Gemm or Conv right before it (no broadcasting adds)');
    }
    const outC = node.shape[0];
    const lead = dims.length ? dims : [];
    // Accept [O], [1, O] for linear; [O, 1, 1], [1, O, 1, 1] for conv; or a single value.
    const ok = c.length === 1 || (c.length === outC && (node.op === 'linear'
      ? lead[lead.length - 1] === outC
      : lead.length >= 3 && lead[lead.length - 3] === outC));
    if (!ok) this.fail(`the added constant [${dims}] is not a per-channel bias of ${node.id} (${outC} channels)`);
    let bname = node.params.bias;
    if (!bname) {
      const wspec = this.params.find((p) => p.name === node.params.weight)!;
      bname = this.addParam(`${node.id}.bias`, new Float32Array(outC), [outC], 'bias_uniform', 'param', wspec.fanIn);
      node.params.bias = bname;
    }
    const b = this.host[bname];
    for (let o = 0; o < outC; o++) b[o] += c.length === 1 ? c[0] : c[o];
  }

  reshapeTarget(inShape: number[], target: number[], allowzero: boolean): number[] {
    const full = [-2, ...inShape]; // -2 stands for the batch
    const per = prod(inShape);
    if (!target.length) this.fail('Reshape to a scalar is not supported');
    if (target.some((t) => !Number.isSafeInteger(t) || t < -1)) this.fail(`invalid Reshape shape [${target}]`);
    const dims = target.map((t, i) => (t === 0 && !allowzero ? (i < full.length ? full[i] : this.fail(`shape [${target}]: 0 at ${i} copies no input dimension`)) : t));
    const keepsBatch = dims[0] === -2 || (dims[0] === -1 && !dims.slice(1).includes(-1));
    if (!keepsBatch) this.fail(`Reshape to [${target}] does not keep the batch dimension first (export with x.flatten(1) or a dynamic batch)`);
    const rest = dims.slice(1);
    if (rest.includes(-2)) this.fail(`Reshape to [${target}] moves the batch dimension`);
    const negs = rest.filter((d) => d === -1).length;
    if (negs > 1) this.fail(`Reshape to [${target}] has more than one -1`);
    const known = prod(rest.filter((d) => d !== -1));
    if (negs) {
      if (known === 0 || per % known) this.fail(`Reshape of ${per} values per sample to [${target}] does not divide`);
      rest[rest.indexOf(-1)] = per / known;
    } else if (known !== per) {
      this.fail(`Reshape of ${per} values per sample to [${target}] changes the element count`);
    }
    if (!rest.length) this.fail('Reshape to [N] (one value per sample) is not supported');
    return rest;
  }
}

/** The graph's operator-set version for the default domain. */
function defaultOpset(m: ModelProto, file: string): number {
  const ids = (m.opsetImport ?? []).filter((o) => !o.domain || o.domain === 'ai.onnx');
  if (!ids.length) throw new OnnxImportError(file, 'the model declares no opset for the default ONNX domain');
  const v = int64(ids[0].version);
  if (!(v >= MIN_OPSET && v <= MAX_OPSET)) throw new OnnxImportError(file, `opset ${v} is not supported (supported: ${MIN_OPSET} to ${MAX_OPSET})`);
  return v;
}

/** Nodes in an order where every input is produced first (Kahn), or an error naming a cycle or a missing input. */
function topoOrder(g: GraphProto, known: Set<string>, file: string): NodeProto[] {
  const nodes = g.node ?? [];
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const o of n.output ?? []) {
      if (!o) continue;
      if (producer.has(o) || known.has(o)) throw new OnnxImportError(file, `value "${o}" is produced twice`, n.name || `${n.opType}_${i}`, n.opType);
      producer.set(o, i);
    }
  });
  const waiting = new Array<number>(nodes.length).fill(0);
  const readers = new Map<number, number[]>();
  nodes.forEach((n, i) => {
    for (const inp of n.input ?? []) {
      if (!inp || known.has(inp)) continue;
      const p = producer.get(inp);
      if (p === undefined) {
        throw new OnnxImportError(file, `input "${inp}" is not a graph input, an initializer or a node output`, n.name || `${n.opType}_${i}`, n.opType);
      }
      waiting[i]++;
      const r = readers.get(p);
      if (r) r.push(i); else readers.set(p, [i]);
    }
  });
  const ready: number[] = [];
  waiting.forEach((w, i) => { if (w === 0) ready.push(i); });
  const order: NodeProto[] = [];
  // Keep the file's order where it is valid: process the smallest ready index first (a small heap
  // is not needed: ready lists stay short; sort only when new entries arrive).
  while (ready.length) {
    ready.sort((a, b) => b - a);
    const i = ready.pop()!;
    order.push(nodes[i]);
    for (const r of readers.get(i) ?? []) if (--waiting[r] === 0) ready.push(r);
  }
  if (order.length !== nodes.length) {
    const stuck = nodes.findIndex((_, i) => waiting[i] > 0);
    const n = nodes[stuck];
    throw new OnnxImportError(file, 'the graph has a cycle', n.name || `${n.opType}_${stuck}`, n.opType);
  }
  return order;
}

function readShape(vi: { type?: { tensorType?: { elemType?: number; shape?: { dim?: { dimValue?: unknown; dimParam?: string }[] } } } }): (number | string)[] | null {
  const dims = vi.type?.tensorType?.shape?.dim;
  if (!dims) return null;
  return dims.map((d) => (has(d, 'dimValue') ? int64(d.dimValue as number) : d.dimParam || '?'));
}

/** Per-sample preprocessing declared in the model's metadata_props (input_scale, input_mean, input_std). */
function metadataPreprocessing(m: ModelProto): InputPreprocessing | null {
  const props = new Map((m.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  if (!props.has('input_scale') && !props.has('input_mean') && !props.has('input_std')) return null;
  const list = (s: string | undefined) => (s === undefined ? undefined : s.replace(/[[\]]/g, '').split(',').map((x) => Number(x.trim())));
  const scale = props.has('input_scale') ? Number(props.get('input_scale')) : undefined;
  return { scale, mean: list(props.get('input_mean')), std: list(props.get('input_std')) };
}

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
  const opset = defaultOpset(m, file);
  if ((g.sparseInitializer ?? []).length) throw new OnnxImportError(file, 'sparse initializers are not supported');
  const im = new Importer(file, opset);

  for (const t of g.initializer ?? []) {
    if (!t.name) throw new OnnxImportError(file, 'an initializer has no name');
    im.vals.set(t.name, { kind: 'lazy', t, what: `initializer "${t.name}"` });
  }
  const inputs = (g.input ?? []).filter((vi) => vi.name && !im.vals.has(vi.name));
  if (inputs.length !== 1) throw new OnnxImportError(file, `the model has ${inputs.length} inputs; exactly one image input is supported`);
  const input = inputs[0];
  const elem = input.type?.tensorType?.elemType;
  if (elem !== DataType.FLOAT) throw new OnnxImportError(file, `input "${input.name}" has type ${DATA_TYPE_NAMES[elem ?? 0] ?? elem}; float32 is expected`);
  const dims = readShape(input);
  let inputShape: number[];
  if (opts.inputShape) {
    inputShape = [...opts.inputShape];
    if (inputShape.length !== 3 || !inputShape.every((d) => Number.isInteger(d) && d > 0)) throw new OnnxImportError(file, `inputShape must be [C, H, W], got [${inputShape}]`);
    if (dims && dims.length === 4 && dims.slice(1).some((d, i) => typeof d === 'number' && d !== inputShape[i])) {
      throw new OnnxImportError(file, `inputShape [${inputShape}] disagrees with the file's input [${dims}]`);
    }
  } else {
    if (!dims) throw new OnnxImportError(file, `input "${input.name}" has no shape; give the input shape [C, H, W]`);
    if (dims.length !== 4) throw new OnnxImportError(file, `input "${input.name}" has shape [${dims}]; an NCHW image input [N, C, H, W] is expected`);
    const rest = dims.slice(1);
    if (rest.some((d) => typeof d !== 'number' || !(d > 0))) {
      throw new OnnxImportError(file, `input "${input.name}" has dynamic dimensions [${dims}]; only the batch may be dynamic (or give the input shape [C, H, W])`);
    }
    inputShape = rest as number[];
  }
  if (prod(inputShape) > MAX_ELEMENTS) throw new OnnxImportError(file, `input shape [${inputShape}] is too large`);
  const outs = g.output ?? [];
  if (outs.length !== 1 || !outs[0].name) throw new OnnxImportError(file, `the model has ${outs.length} outputs; exactly one (the logits) is supported`);
  const outName = outs[0].name;

  // Uses of each value (graph output included), for the single-use checks.
  for (const n of g.node ?? []) for (const i of n.input ?? []) if (i) im.uses.set(i, (im.uses.get(i) ?? 0) + 1);
  im.uses.set(outName, (im.uses.get(outName) ?? 0) + 1);

  // input -> QuantStub
  im.ids.add('input');
  im.addNode('input', 'input', [], [...inputShape]);
  const quant = im.uniqueId('quant');
  im.addNode(quant, 'quant_stub', ['input'], [...inputShape]);
  im.vals.set(input.name!, { kind: 'tensor', id: quant, shape: [...inputShape] });

  const order = topoOrder(g, new Set(im.vals.keys()), file);
  order.forEach((n, i) => im.importNode(n, i));
  im.cur = null;

  const outVal = im.vals.get(outName);
  if (!outVal) throw new OnnxImportError(file, `output "${outName}" is not computed by the graph`);
  if (im.pads.has(outName)) throw new OnnxImportError(file, `output "${outName}" is a Pad output`);
  if (outVal.kind !== 'tensor') throw new OnnxImportError(file, `output "${outName}" is a constant`);
  if (outVal.id === quant) throw new OnnxImportError(file, 'the output is the input: the model computes nothing');
  const classes = prod(outVal.shape);
  if (outVal.shape.length !== 1 && !outVal.squeezed) {
    throw new OnnxImportError(file, `output "${outName}" has per-sample shape [${outVal.shape}]; logits [N, classes] are expected`);
  }
  const dequant = im.uniqueId('dequant');
  im.addNode(dequant, 'dequant_stub', [outVal.id], [classes]);

  // Keep only what the output needs.
  const live = new Set<string>([dequant]);
  for (let i = im.nodes.length - 1; i >= 0; i--) if (live.has(im.nodes[i].id)) for (const x of im.nodes[i].inputs) live.add(x);
  live.add('input');
  const nodes = im.nodes.filter((n) => live.has(n.id));
  const usedParams = new Set(nodes.flatMap((n) => Object.values(n.params)));
  const params = im.params.filter((p) => usedParams.has(p.name));
  const host: HostParams = {};
  for (const p of params) host[p.name] = im.host[p.name];

  const base = (opts.name ?? file.split(/[\\/]/).pop() ?? 'model').replace(/\.onnx$/i, '') || 'onnx-model';
  const graph: Graph = { name: base, inputShape: [...inputShape], numClasses: classes, nodes, output: dequant, params };
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
