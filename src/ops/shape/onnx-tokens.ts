/**
 * ReduceMean over the tokens of a [T, D] value (a ViT's mean pooling, x.mean(dim=1)): made of ops that exist at every
 * stage, transpose to [D, T], view as [D, T, 1] and global average pool to [D] (keepdims: then viewed as [1, D]).
 */
import type { ImportContext, NodeIO } from '../../io/onnx/import/context.ts';
import { reduceAxes } from '../norm/onnx.ts';

export function tryTokenMean(im: ImportContext, { n, inputs, base, set }: NodeIO): boolean {
  const x = im.tensor(inputs[0]);
  if (x.squeezed || x.shape.length !== 2) return false;
  const axes = reduceAxes(im, n, 3);
  if (axes?.length !== 1 || axes[0] !== 1) return false;
  const keep = im.attrInt(n, 'keepdims', 1);
  if (keep !== 0 && keep !== 1) im.fail(`keepdims must be 0 or 1, got ${keep}`);
  const [t, d] = x.shape;
  const tp = im.uniqueId(`${base}/transpose`);
  im.addNode(tp, 'transpose', [x.id], [d, t], { perm: [1, 0] });
  const view = im.uniqueId(`${base}/view`);
  im.addNode(view, 'reshape', [tp], [d, t, 1], { shape: [d, t, 1] });
  const id = im.uniqueId(base);
  im.addNode(id, 'global_avgpool', [view], [d]);
  if (!keep) {
    set({ kind: 'tensor', id, shape: [d] });
    return true;
  }
  const kd = im.uniqueId(`${base}/keepdims`);
  im.addNode(kd, 'reshape', [id], [1, d], { shape: [1, d] });
  set({ kind: 'tensor', id: kd, shape: [1, d] });
  return true;
}
