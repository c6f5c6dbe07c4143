/**
 * The GPU requantization of the fixed-point simulator (shaders/int_requant.wgsl) on the test adapter:
 *  - 32-bit words survive upload / read back unchanged (NaN payloads included);
 *  - the 16-bit-limb emulation of the 32x32 -> 64-bit product, the round-half-up shift and the QNNPACK rounding
 *    shift equal a BigInt reference on every case (random, extremes, exact ties);
 *  - the float32 path (exact int -> f32, f32 multiply, round() half to even) equals Math.fround / nearbyint;
 *  - requantize() equals the CPU kernel bit for bit in both modes, all output dtypes, saturation, per channel.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { nearbyint, requantize as requantizeCpu, type OutputSpec, type QDType, type RequantSpec } from '../src/sim/int/requant.ts';
import { readBits, uploadBits } from '../src/sim/gpu/bits.ts';
import { SIM_INT_SHADERS, createGpuIntKernels } from '../src/sim/gpu/kernels.ts';
import { grid1d, u32 } from '../src/engine/webgpu/gpu-context.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';

afterAll(destroyTestBackend);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const M64 = (1n << 64n) - 1n;
const toWords = (v: bigint): [number, number] => {
  const u = v & M64;
  return [Number(u & 0xffffffffn) | 0, Number(u >> 32n) | 0];
};
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}
const halfUp = (p: bigint, s: number): bigint => (s === 0 ? p : floorDiv(p + (1n << BigInt(s - 1)), 1n << BigInt(s)));
function qnnpack(p: bigint, s: number): bigint {
  if (s === 0) return p;
  const d = 1n << BigInt(s);
  const q = floorDiv(p, d);
  const rem = p - q * d;
  const threshold = (d >> 1n) - 1n;
  return rem - (p < 0n ? 1n : 0n) > threshold ? q + 1n : q;
}

describe('GPU words', () => {
  it('upload / read back preserve every bit pattern (NaN payloads, -0, extremes)', async () => {
    const be = await getTestBackend();
    const r = rng(1);
    const words = Int32Array.from([0, -1, 1, -2147483648, 2147483647, 0x7fc00001, 0x7f800001, 0xff800001 | 0, 0x80000000 | 0, 0x7f800000, 0x00000001]);
    const all = new Int32Array(4096);
    all.set(words);
    for (let i = words.length; i < all.length; i++) all[i] = (r() * 4294967296) | 0;
    const t = uploadBits(be.ctx, all, [all.length]);
    const back = await readBits(be.ctx, t);
    be.ctx.release(t);
    expect(Array.from(back)).toEqual(Array.from(all));
  });
});

async function runDebug(entry: 'debug_mulshift' | 'debug_f32', cases: Int32Array, count: number, wordsPer: number): Promise<Int32Array> {
  const be = await getTestBackend();
  const ctx = be.ctx;
  const inp = uploadBits(ctx, cases, [cases.length]);
  const out = ctx.empty([count * wordsPer]);
  const s = SIM_INT_SHADERS.eltwise;
  ctx.run({ key: s.key, code: s.code, entry, inputs: [inp], outputs: [out], params: [u32(count), u32(0), u32(0), u32(0)], workgroups: grid1d(count) });
  const res = await readBits(ctx, out);
  ctx.release(inp);
  ctx.release(out);
  return res;
}

describe('horizon: 64-bit emulation with 16-bit limbs', () => {
  it('acc * m, round-half-up shift and qnnpack shift equal BigInt on 20 000 cases (random, extremes, ties)', async () => {
    const r = rng(7);
    const accs = [0, 1, -1, 2, -2, 3, -3, 2147483647, -2147483648, -2147483647, 65535, -65536, 65536, 0x7fff8000, -0x7fff8000];
    const ms = [0, 1, 2, 0x7fffffff, 0x40000000, 0x40000001, 0x7fff0000, 0xffff, 0x10000, 0x5555aaaa];
    const cases: Array<[number, number, number]> = [];
    for (const a of accs) for (const m of ms) for (const s of [0, 1, 15, 16, 17, 31, 32, 33, 47, 62, 63]) cases.push([a, m, s]);
    while (cases.length < 20000) {
      const kind = cases.length % 4;
      const s = Math.floor(r() * 64);
      let acc = (r() * 4294967296) | 0;
      if (kind === 1) acc = Math.floor((r() - 0.5) * 2 ** Math.floor(r() * 32)); // every magnitude
      let m = Math.floor(r() * 2147483648);
      if (kind === 2 && s >= 1) {
        // exact ties: m = 2^(s-1) * odd / small power: acc * m / 2^s has a fractional part of exactly 1/2
        const j = Math.min(s - 1, 30);
        m = 2 ** j;
        acc = (Math.floor(r() * 65536) * 2 + 1) * 2 ** (s - 1 - j) * (r() < 0.5 ? -1 : 1);
        if (!Number.isSafeInteger(acc) || Math.abs(acc) > 2 ** 31) acc = r() < 0.5 ? 1 : -1;
      }
      if (kind === 3) m = 0x40000000 + Math.floor(r() * 0x40000000); // normalised multipliers
      cases.push([acc | 0, m, s]);
    }
    const flat = new Int32Array(cases.length * 3);
    cases.forEach(([a, m, s], i) => flat.set([a, m, s], 3 * i));
    const got = await runDebug('debug_mulshift', flat, cases.length, 6);
    let bad = 0;
    let ties = 0;
    for (let i = 0; i < cases.length; i++) {
      const [a, m, s] = cases[i];
      const p = BigInt(a) * BigInt(m);
      if (s > 0 && ((p % (1n << BigInt(s))) + (1n << BigInt(s))) % (1n << BigInt(s)) === 1n << BigInt(s - 1)) ties++;
      const want = [...toWords(p), ...toWords(halfUp(p, s)), ...toWords(qnnpack(p, s))];
      const have = Array.from(got.subarray(6 * i, 6 * i + 6));
      if (want.some((w, k) => w !== have[k])) {
        if (bad++ < 5) console.error('mismatch', a, m, s, want, have);
      }
    }
    expect(bad).toBe(0);
    expect(ties).toBeGreaterThan(2000);
  });
});

describe('pytorch: float32 path on the adapter', () => {
  it('f32(acc) (round half to even), f32(f32(acc) * M) and round() (half to even) are bit-exact', async () => {
    const r = rng(11);
    const f = Math.fround;
    const cases: Array<[number, number]> = [];
    // conversion ties above 2^24 and round() ties (M = 0.5, 0.25, 2^-k with odd multiples)
    for (const a of [16777217, 16777219, -16777217, 33554434, 33554438, 2147483647, -2147483648, -2147483647, 2147483520, 2147483583, 2147483584]) cases.push([a, 1]);
    for (let a = -40; a <= 40; a++) for (const M of [0.5, 0.25, 0.125, 1.5, 2.5]) cases.push([a, M]);
    while (cases.length < 20000) {
      const mag = 2 ** Math.floor(r() * 32);
      const acc = Math.max(-2147483648, Math.min(2147483647, Math.floor((r() - 0.5) * 2 * mag)));
      const M = f(r() * 2 ** (Math.floor(r() * 40) - 30));
      cases.push([acc, cases.length % 7 === 0 ? f(2 ** -(1 + Math.floor(r() * 20))) : M]);
    }
    const flat = new Int32Array(cases.length * 2);
    const fv = new Float32Array(flat.buffer);
    cases.forEach(([a, M], i) => {
      flat[2 * i] = a;
      fv[2 * i + 1] = M;
    });
    const got = await runDebug('debug_f32', flat, cases.length, 3);
    const gotF = new Float32Array(got.buffer);
    let bad = 0;
    let roundTies = 0;
    for (let i = 0; i < cases.length; i++) {
      const [a, M] = cases[i];
      const x = f(a);
      const prod = f(x * M);
      if (prod - Math.floor(prod) === 0.5) roundTies++;
      const want = [x, prod, nearbyint(prod)];
      const have = [gotF[3 * i], gotF[3 * i + 1], gotF[3 * i + 2]];
      if (want.some((w, k) => !Object.is(w + 0, have[k] + 0))) {
        if (bad++ < 5) console.error('mismatch', a, M, want, have);
      }
    }
    expect(bad).toBe(0);
    expect(roundTies).toBeGreaterThan(100);
  });
});

describe('requantize: GPU equals CPU', () => {
  const dtypes: QDType[] = ['int8', 'uint8', 'int16', 'int32'];
  it('both modes, every output dtype, zero points, clamps, extreme multipliers and shifts, per channel', async () => {
    const be = await getTestBackend();
    const k = createGpuIntKernels(be.ctx);
    const r = rng(3);
    let checked = 0;
    for (let t = 0; t < 48; t++) {
      const channels = 1 + Math.floor(r() * 5);
      const inner = 1 + Math.floor(r() * 7);
      const n = channels * inner * (1 + Math.floor(r() * 3));
      const acc = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const mag = 2 ** Math.floor(r() * 32);
        acc[i] = i % 11 === 0 ? (i % 22 === 0 ? -2147483648 : 2147483647) : Math.floor((r() - 0.5) * 2 * mag);
      }
      const dtype = dtypes[t % 4];
      const perTensor = t % 5 === 0;
      const nm = perTensor ? 1 : channels;
      let spec: RequantSpec;
      if (t % 2 === 0) {
        const multiplier = new Int32Array(nm);
        const shift = new Int32Array(nm);
        for (let c = 0; c < nm; c++) {
          const pick = Math.floor(r() * 5);
          multiplier[c] = [0x7fffffff, 0x40000000, 0, 1, 0x40000000 + Math.floor(r() * 0x3fffffff)][pick];
          shift[c] = [0, 63, 31, 32, Math.floor(r() * 64)][Math.floor(r() * 5)];
        }
        spec = { mode: 'horizon', multiplier, shift };
      } else {
        const multiplier = new Float32Array(nm);
        for (let c = 0; c < nm; c++) multiplier[c] = Math.fround(r() * 2 ** (Math.floor(r() * 40) - 32));
        spec = { mode: 'pytorch', multiplier };
      }
      const zp = dtype === 'uint8' ? Math.floor(r() * 256) : dtype === 'int32' ? Math.floor((r() - 0.5) * 1000) : Math.floor((r() - 0.5) * 100);
      const out: OutputSpec = { dtype, zeroPoint: zp };
      if (t % 3 === 0) out.clampMin = zp;
      if (t % 6 === 0) out.clampMax = zp + 17;
      const layout = { channels, inner };
      const want = requantizeCpu(acc, spec, out, layout);
      const got = await k.requantize(acc, spec, out, layout);
      expect(got.constructor).toBe(want.constructor);
      expect(Array.from(got)).toEqual(Array.from(want));
      checked += n;
    }
    expect(checked).toBeGreaterThan(500);
  });

  it('int32 output without zero point returns the accumulator; errors match the CPU kernel', async () => {
    const be = await getTestBackend();
    const k = createGpuIntKernels(be.ctx);
    const acc = Int32Array.from([5, -7, 2147483647]);
    expect(Array.from(await k.requantize(acc, null, { dtype: 'int32' }))).toEqual([5, -7, 2147483647]);
    const bad: RequantSpec = { mode: 'horizon', multiplier: Int32Array.of(1), shift: Int32Array.of(64) };
    await expect(k.requantize(acc, bad, { dtype: 'int8' })).rejects.toThrow(/shift/);
    await expect(k.requantize(acc, null, { dtype: 'int8' })).rejects.toThrow(/RequantSpec/);
  });
});
