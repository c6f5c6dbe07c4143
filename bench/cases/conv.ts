/**
 * conv2d forward + backward GFLOP/s on every distinct conv shape of the benchmarked models.
 * Ours: backend.conv2d + conv2dBackwardInput + conv2dBackwardWeight. Peer: tf.conv2d or
 * tf.depthwiseConv2d with both gradients from tf.grads (which also runs the forward).
 * FLOPs = 2 * MACs * 3 (forward, backward-input and backward-weight each cost the MACs).
 */
import { conv2dOutShape, sizeOf, type Backend, type Conv2dParams, type Shape } from '../../src/engine/backend.ts';
import type { Graph } from '../../src/graph/ir.ts';
import { buildModel } from '../../src/models/zoo.ts';
import { comparePair, row, type BenchOptions, type Row, type RowDetail, type Side } from '../harness.ts';
import { tf, type TfjsPeer } from '../tfjs-peer.ts';
import { createRng } from '../../src/data/rng.ts';

export interface ConvShape {
  label: string;
  /** Where it occurs, e.g. "cnn-small:block2/conv". */
  where: string[];
  x: Shape;
  w: Shape;
  p: Conv2dParams;
}

export function convShapes(models: readonly string[], batch: number): ConvShape[] {
  const out = new Map<string, ConvShape>();
  for (const m of models) {
    const g: Graph = buildModel(m);
    const shapes = new Map(g.nodes.map((n) => [n.id, n.shape]));
    for (const n of g.nodes) {
      if (n.op !== 'conv2d') continue;
      const p = n.attrs.conv!;
      const w = g.params.find((q) => q.name === n.params.weight)!.shape;
      const x = [batch, ...shapes.get(n.inputs[0])!];
      const key = JSON.stringify([x, w, p]);
      const where = `${m}:${n.namespace || n.id}`;
      const hit = out.get(key);
      if (hit) { hit.where.push(where); continue; }
      const [o, , kh, kw] = w;
      const kind = p.groups === 1 ? 'conv' : p.groups === o && w[1] === 1 ? 'dw' : `g${p.groups}`;
      const io = kind === 'dw' ? `${o}` : `${x[1]}->${o}`;
      const label = `${kind} ${io} ${kh}x${kw}${p.strideH > 1 ? ` s${p.strideH}` : ''} @${x[2]}x${x[3]}`;
      out.set(key, { label, where: [where], x, w, p });
    }
  }
  return [...out.values()];
}

export function convFlops(s: ConvShape): number {
  const y = conv2dOutShape(s.x, s.w, s.p);
  const macs = sizeOf(y) * s.w[1] * s.w[2] * s.w[3];
  return 2 * macs * 3;
}

function randomData(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.float() * 2 - 1;
  return a;
}

export function oursConv(be: Backend, s: ConvShape): Side & { dispose(): void } {
  const yShape = conv2dOutShape(s.x, s.w, s.p);
  const x = be.upload(randomData(sizeOf(s.x), 1), s.x);
  const w = be.upload(randomData(sizeOf(s.w), 2), s.w);
  const dy = be.upload(randomData(sizeOf(yShape), 3), yShape);
  return {
    async run(k) {
      for (let i = 0; i < k; i++) {
        be.release(be.conv2d(x, w, null, s.p));
        be.release(be.conv2dBackwardInput(dy, w, s.x, s.p));
        be.release(be.conv2dBackwardWeight(dy, x, s.w, s.p));
      }
      await be.sync();
    },
    dispose() {
      for (const t of [x, w, dy]) be.release(t);
    },
  };
}

export function peerConv(s: ConvShape): Side & { dispose(): void } {
  const [n, c, h, wd] = s.x;
  const [o, ig, kh, kw] = s.w;
  const depthwise = s.p.groups !== 1;
  if (depthwise && !(s.p.groups === c && s.p.groups === o && ig === 1)) throw new Error(`peer: conv ${s.label} is neither dense nor depthwise`);
  const yShape = conv2dOutShape(s.x, s.w, s.p);
  // NHWC activations and HWIO / [kh, kw, C, 1] filters: TF.js's native layouts (same values count).
  const x = tf.tensor4d(randomData(sizeOf(s.x), 1), [n, h, wd, c]);
  const w = tf.tensor4d(randomData(sizeOf(s.w), 2), depthwise ? [kh, kw, c, 1] : [kh, kw, ig, o]);
  const dy = tf.tensor4d(randomData(sizeOf(yShape), 3), [yShape[0], yShape[2], yShape[3], yShape[1]]);
  const strides: [number, number] = [s.p.strideH, s.p.strideW];
  const pad = s.p.padH;
  if (s.p.padH !== s.p.padW || s.p.dilationH !== 1 || s.p.dilationW !== 1) throw new Error(`peer: conv ${s.label} params not mirrored`);
  const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => depthwise
    ? tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad)
    : tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad));
  return {
    async run(k) {
      let last: tf.Tensor[] = [];
      for (let i = 0; i < k; i++) {
        tf.dispose(last);
        last = grads([x, w], dy);
      }
      await Promise.all(last.map((t) => t.data()));
      tf.dispose(last);
    },
    dispose() {
      tf.dispose([x, w, dy]);
    },
  };
}

export async function convCases(be: Backend, peer: TfjsPeer, models: readonly string[], batch: number, o: BenchOptions,
  log: (s: string) => void, filter?: (label: string) => boolean): Promise<{ rows: Row[]; details: RowDetail[] }> {
  const rows: Row[] = [], details: RowDetail[] = [];
  for (const s of convShapes(models, batch)) {
    if (filter && !filter(s.label)) continue;
    const ours = oursConv(be, s);
    const tfp = peerConv(s);
    try {
      const r = await comparePair(ours, tfp, convFlops(s) / 1e9, o);
      const name = `conv f+b ${s.label} b${batch}`;
      rows.push(row(name, 'GFLOP/s', peer.name, r));
      details.push({ case: name, ...r, note: `x [${s.x}] w [${s.w}] ${JSON.stringify(s.p)}; in ${s.where.join(', ')}` });
      log(`  ${name}: ours ${r.ours.median.toFixed(3)}, peer ${r.peer.median.toFixed(3)} GFLOP/s`);
    } finally {
      ours.dispose();
      tfp.dispose();
    }
  }
  return { rows, details };
}
