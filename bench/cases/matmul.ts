/**
 * Square matmul GFLOP/s (2 N^3 per product): our backend.linear (y = x w^T, no bias) against
 * tf.matMul on the same adapter. TF.js gets whichever of tf.matMul(a, b, false, true) (the identical
 * product) and tf.matMul(a, b) (its natural layout, which may take its vec4 path) is faster on a
 * quick trial, so its figure is its best. The "best" row is the largest median each side reaches
 * over the sizes: the adapter's best measured figure per engine.
 */
import type { Backend } from '../../src/engine/backend.ts';
import { comparePair, row, type BenchOptions, type Row, type RowDetail, type Side, type PairResult } from '../harness.ts';
import { tf, type TfjsPeer } from '../tfjs-peer.ts';
import { createRng } from '../../src/data/rng.ts';

function randomData(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.float() * 2 - 1;
  return a;
}

function oursMatmul(be: Backend, n: number): Side & { dispose(): void } {
  const x = be.upload(randomData(n * n, 1), [n, n]);
  const w = be.upload(randomData(n * n, 2), [n, n]);
  return {
    async run(k) {
      for (let i = 0; i < k; i++) be.release(be.linear(x, w, null));
      await be.sync();
    },
    dispose() { be.release(x); be.release(w); },
  };
}

async function peerMatmul(n: number): Promise<Side & { dispose(): void; variant: string }> {
  const a = tf.tensor2d(randomData(n * n, 1), [n, n]);
  const b = tf.tensor2d(randomData(n * n, 2), [n, n]);
  const make = (transposeB: boolean): Side => ({
    async run(k) {
      let last: tf.Tensor | null = null;
      for (let i = 0; i < k; i++) {
        last?.dispose();
        last = tf.matMul(a, b, false, transposeB);
      }
      await last!.data();
      last!.dispose();
    },
  });
  const trial = async (s: Side) => {
    await s.run(1); // compile
    const t0 = performance.now();
    await s.run(2);
    return performance.now() - t0;
  };
  const bt = make(true), plain = make(false);
  const useBt = (await trial(bt)) <= (await trial(plain));
  return { ...(useBt ? bt : plain), variant: useBt ? 'tf.matMul(a, b, false, true)' : 'tf.matMul(a, b)', dispose() { tf.dispose([a, b]); } };
}

export async function matmulCases(be: Backend, peer: TfjsPeer, sizes: readonly number[], o: BenchOptions,
  log: (s: string) => void): Promise<{ rows: Row[]; details: RowDetail[] }> {
  const rows: Row[] = [], details: RowDetail[] = [];
  const results: { n: number; r: PairResult }[] = [];
  for (const n of sizes) {
    const ours = oursMatmul(be, n), tfp = await peerMatmul(n);
    try {
      const r = await comparePair(ours, tfp, (2 * n ** 3) / 1e9, o);
      results.push({ n, r });
      const name = `matmul ${n}x${n}x${n}`;
      rows.push(row(name, 'GFLOP/s', peer.name, r));
      details.push({ case: name, ...r, note: `peer ran ${tfp.variant}` });
      log(`  ${name}: ours ${r.ours.median.toFixed(3)}, peer ${r.peer.median.toFixed(3)} GFLOP/s (${tfp.variant})`);
    } finally {
      ours.dispose();
      tfp.dispose();
    }
  }
  if (results.length) {
    const bo = results.reduce((a, b) => (b.r.ours.median > a.r.ours.median ? b : a));
    const bp = results.reduce((a, b) => (b.r.peer.median > a.r.peer.median ? b : a));
    const name = `matmul best of ${sizes.join('/')}`;
    rows.push({
      case: name, metric: 'GFLOP/s', ours: bo.r.ours.median, peer: peer.name, peer_value: bp.r.peer.median,
      ratio: bo.r.ours.median / bp.r.peer.median,
    });
    details.push({ case: name, ours: bo.r.ours, peer: bp.r.peer, note: `ours best at N=${bo.n}, peer best at N=${bp.n}` });
  }
  return { rows, details };
}
