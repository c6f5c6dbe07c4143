/**
 * The import's state while the nodes are read: the IR nodes and parameters made so far, the value of
 * every ONNX name, folded Pads, use counts; and the readers every op shares (values, constants,
 * attributes, spatial pads). Errors go through `fail`, which names the node being imported.
 */
import type { GraphNode, NodeAttrs, OpType, ParamSpec } from '../../../graph/ir.ts';
import type { HostParams } from '../../../nn/params.ts';
import { AttrType, DATA_TYPE_NAMES, int64, type AttributeProto, type NodeProto } from '../proto-types.ts';
import { OnnxImportError } from './errors.ts';
import { decodeTensor } from './tensor.ts';
import type { ConstVal, LazyVal, TensorVal, Val } from './values.ts';

export class ImportContext {
  nodes: GraphNode[] = [];
  params: ParamSpec[] = [];
  host: HostParams = {};
  vals = new Map<string, Val | LazyVal>();
  ids = new Set<string>();
  /** Zero padding of a Pad output, folded into its Conv / AveragePool consumer: [top, left, bottom, right]. */
  pads = new Map<string, { src: string; pads: number[] }>();
  /** How many node inputs (and graph outputs) read each ONNX value. */
  uses = new Map<string, number>();
  /** The nodes that read each ONNX value (an importer may take a following node with it: Sigmoid + Mul = SiLU). */
  consumers = new Map<string, NodeProto[]>();
  /** The node that writes each ONNX value (patterns read backwards: src/io/onnx/import/pattern.ts). */
  producers = new Map<string, NodeProto>();
  /** Nodes an earlier importer imported together with its own, and the value their output is. */
  absorbed = new Map<NodeProto, Val>();
  /** The file's input has a fixed batch of 1: a leading 1 in a Reshape target is that batch. */
  staticBatchOne = false;
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
    const c = decodeTensor(v.t, v.what, (r) => this.fail(r));
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
    this.noBatch(c, what);
    if (!(c.data instanceof Float32Array)) this.fail(`${what} has data type ${DATA_TYPE_NAMES[c.dataType] ?? c.dataType}; float32 is expected`);
    return c.data;
  }

  ints(c: ConstVal, what: string): number[] {
    if (c.data instanceof Float32Array) this.fail(`${what} must be an integer tensor`);
    this.noBatch(c, what);
    return c.data;
  }

  /** Refuses a constant computed from the batch size (a Shape of a tensor) where a fixed value is needed. */
  noBatch(c: ConstVal, what: string): void {
    if (c.batch?.some((b) => b)) this.fail(`${what} depends on the batch size; only a Reshape target may carry it`);
  }

  /** The IR node of an id made so far (the producer of a value). */
  node(id: string): GraphNode | undefined {
    for (let i = this.nodes.length - 1; i >= 0; i--) if (this.nodes[i].id === id) return this.nodes[i];
    return undefined;
  }

  /** A scalar (or one-element) float constant. */
  scalar(name: string, what: string): number {
    const c = this.constant(name, what);
    if (c.data.length !== 1) this.fail(`${what} must have one element, has ${c.data.length}`);
    this.noBatch(c, what);
    return Number(c.data[0]);
  }

  /** How many node inputs (and graph outputs) read the IR value `id`, over all its ONNX names (Identity aliases). */
  reads(id: string): number {
    let n = 0;
    for (const [k, v] of this.vals) if (v.kind === 'tensor' && v.id === id) n += this.uses.get(k) ?? 0;
    return n;
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

}

/** What an op importer gets: the node, its op, inputs, first output and id base, and setters for the output's value. */
export interface NodeIO {
  n: NodeProto;
  op: string;
  inputs: string[];
  out: string;
  /** The IR id base: the node name without its leading '/'. */
  base: string;
  set(v: Val): void;
  /** The output is another name for this input (Identity, Dropout, a no-op Pad). */
  alias(name: string): void;
}
