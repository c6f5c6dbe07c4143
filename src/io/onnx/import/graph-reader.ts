/**
 * Reading the protobuf graph: the default opset, the image input's per-sample shape (from the file
 * or the caller), and the nodes in an order where every input is produced first.
 */
import { DATA_TYPE_NAMES, DataType, has, int64, type GraphProto, type ModelProto, type NodeProto, type ValueInfoProto } from '../proto.ts';
import { OnnxImportError } from './errors.ts';
import { MAX_OPSET, MIN_OPSET } from './types.ts';
import { MAX_ELEMENTS, prod } from './values.ts';

/** The graph's operator-set version for the default domain. */
export function defaultOpset(m: ModelProto, file: string): number {
  const ids = (m.opsetImport ?? []).filter((o) => !o.domain || o.domain === 'ai.onnx');
  if (!ids.length) throw new OnnxImportError(file, 'the model declares no opset for the default ONNX domain');
  const v = int64(ids[0].version);
  if (!(v >= MIN_OPSET && v <= MAX_OPSET)) throw new OnnxImportError(file, `opset ${v} is not supported (supported: ${MIN_OPSET} to ${MAX_OPSET})`);
  return v;
}

/** Nodes in an order where every input is produced first (Kahn), or an error naming a cycle or a missing input. */
export function topoOrder(g: GraphProto, known: Set<string>, file: string): NodeProto[] {
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

export function readShape(vi: { type?: { tensorType?: { elemType?: number; shape?: { dim?: { dimValue?: unknown; dimParam?: string }[] } } } }): (number | string)[] | null {
  const dims = vi.type?.tensorType?.shape?.dim;
  if (!dims) return null;
  return dims.map((d) => (has(d, 'dimValue') ? int64(d.dimValue as number) : d.dimParam || '?'));
}

/** The one image input (the graph inputs that are not initializers) and its per-sample shape [C, H, W]. */
export function readInput(g: GraphProto, isInitializer: (name: string) => boolean, file: string, given?: number[]): { name: string; inputShape: number[]; batch: number | null } {
  const inputs = (g.input ?? []).filter((vi) => vi.name && !isInitializer(vi.name));
  if (inputs.length !== 1) throw new OnnxImportError(file, `the model has ${inputs.length} inputs; exactly one image input is supported`);
  const input: ValueInfoProto = inputs[0];
  const elem = input.type?.tensorType?.elemType;
  if (elem !== DataType.FLOAT) throw new OnnxImportError(file, `input "${input.name}" has type ${DATA_TYPE_NAMES[elem ?? 0] ?? elem}; float32 is expected`);
  const dims = readShape(input);
  let inputShape: number[];
  if (given) {
    inputShape = [...given];
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
  return { name: input.name!, inputShape, batch: dims && typeof dims[0] === 'number' ? dims[0] : null };
}
