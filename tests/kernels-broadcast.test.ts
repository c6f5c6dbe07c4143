/**
 * A ViT's learned constants on the tape (src/engine/fns/broadcast.ts): the class token [1, D] repeated over the
 * batch and put before the patch tokens (concat on the token axis), the position table [T + 1, D] repeated over the
 * batch and added, and the class token's row read out (a slice of token 0). Gradients of the class token, the
 * position table and the tokens against central finite differences of a float64 forward, on the CPU reference and
 * on WebGPU; no tensor leaks.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Tape, Var } from '../src/engine/autograd.ts';
import type { Backend } from '../src/engine/backend.ts';
import { addFn } from '../src/engine/fns/activation.ts';
import { broadcastBatchFn } from '../src/engine/fns/broadcast.ts';
import { sliceChannelsFn } from '../src/engine/fns/channels.ts';
import { concatFn } from '../src/engine/fns/pool.ts';
import { CpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { expectAllClose, numericGrad } from './helpers/reference-gradcheck.ts';
import { mulberry32 } from './helpers/random.ts';

afterAll(destroyTestBackend);

const rand = (n: number, seed: number) => {
  const r = mulberry32(seed);
  return Float64Array.from({ length: n }, () => r() * 2 - 1);
};

describe('learned constants repeated over the batch', () => {
  it('class token concat + position table add + token-0 readout: gradients against finite differences', async () => {
    const N = 3, T = 4, D = 5;
    const cls = rand(D, 1), pos = rand((T + 1) * D, 2), x = rand(N * T * D, 3);
    const r = rand(N * 2 * D, 4); // the readout: tokens 0..1 of each sample, [N, 2, D]
    // y[n, t, :] = (t == 0 ? cls : x[n, t - 1]) + pos[t]; out = y[:, 0:2]
    const ref = (c: Float64Array, p: Float64Array, xx: Float64Array) => {
      const out = new Float64Array(N * 2 * D);
      for (let n = 0; n < N; n++) {
        for (let t = 0; t < 2; t++) {
          for (let d = 0; d < D; d++) out[(n * 2 + t) * D + d] = (t === 0 ? c[d] : xx[(n * T + t - 1) * D + d]) + p[t * D + d];
        }
      }
      return out;
    };
    const want = [numericGrad((v) => ref(v, pos, x), cls, r), numericGrad((v) => ref(cls, v, x), pos, r), numericGrad((v) => ref(cls, pos, v), x, r)];
    for (const be of [new CpuBackend(), await getTestBackend()] as Backend[]) {
      const live = be.liveTensors();
      const tape = new Tape(be);
      const vars = ([[cls, [1, D]], [pos, [T + 1, D]], [x, [N, T, D]]] as const).map(([v, s]) => new Var(be.upload(Float32Array.from(v), [...s]), true));
      const c = tape.apply(broadcastBatchFn, [vars[0]], { batch: N });
      expect(c.shape).toEqual([N, 1, D]);
      const y = tape.apply(addFn, [tape.apply(concatFn, [c, vars[2]], null), tape.apply(broadcastBatchFn, [vars[1]], { batch: N })], null);
      const out = tape.apply(sliceChannelsFn, [y], { start: 0, end: 2 });
      expectAllClose(await be.read(out.value), ref(cls, pos, x), 1e-6, 1e-6, `${be.kind} forward`);
      tape.backward(out, tape.own(be.upload(Float32Array.from(r), [N, 2, D])));
      for (let i = 0; i < 3; i++) expectAllClose(await be.read(vars[i].grad!), want[i], 1e-4, 1e-5, `${be.kind} grad ${['cls', 'pos', 'x'][i]}`);
      tape.dispose();
      for (const v of vars) { be.release(v.value); be.release(v.grad!); }
      expect(be.liveTensors()).toBe(live);
    }
  });
});
