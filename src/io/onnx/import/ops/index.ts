/** One ONNX node into the IR: the checks every node shares, then the importer of its op. */
import type { NodeProto } from '../../proto.ts';
import type { ImportContext } from '../context.ts';
import { SUPPORTED_OPS } from '../types.ts';
import type { Val } from '../values.ts';
import { foldNode } from '../fold.ts';
import { onnxImporters } from '../../../../ops/registry.ts';

/** ONNX op type -> importer, from the operator registry (each op's `onnx` part). */
const OPS = onnxImporters();

export function importNode(im: ImportContext, n: NodeProto, index: number): void {
  const op = n.opType ?? '';
  const rawName = n.name || `${op || 'node'}_${index}`;
  im.cur = { name: rawName, op };
  if (n.domain && n.domain !== 'ai.onnx') im.fail(`operator domain "${n.domain}" is not supported (only the default ONNX domain)`);
  const inputs = n.input ?? [];
  const outputs = n.output ?? [];
  if (!outputs.length || !outputs[0]) im.fail('the node has no output');
  const out = outputs[0];
  const base = rawName.replace(/^\/+/, '');
  const set = (v: Val) => im.vals.set(out, v);
  const alias = (name: string) => {
    if (!name) im.fail('missing input');
    if (im.pads.has(name)) {
      im.pads.set(out, im.pads.get(name)!);
      return;
    }
    set(im.val(name));
  };
  // Already imported with an earlier node (the Mul of x * sigmoid(x), src/ops/activation/onnx-lut.ts).
  const taken = im.absorbed.get(n);
  if (taken) {
    set(taken);
    return;
  }
  // shape computations (Shape, and Gather / Concat / Div ... of constants) fold into constants first
  if (foldNode(im, { n, op, inputs, out, base, set, alias })) return;
  const importer = OPS.get(op);
  if (!importer) im.fail(`operator ${op || '(empty)'} is not supported (supported: ${SUPPORTED_OPS.join(', ')})`);
  importer(im, { n, op, inputs, out, base, set, alias });
}
