/**
 * WebGPU pooling kernels against the float32 CPU reference: windows with padding, stride != kernel,
 * non-square windows, 1x1 and 7x7 planes, batch 1 and 3, odd channel counts, ceil_mode and count_include_pad = false.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import * as ref from '../src/engine/reference/pool.ts';
import { pool2dOutShape, sizeOf, type Backend, type Pool2dParams, type Shape } from '../src/engine/backend.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { rng, rand, expectClose } from './helpers/compare.ts';

afterAll(destroyTestBackend);

/** Distinct values (a shuffled ramp): no ties inside any window. */
function distinct(n: number, r: () => number): Float32Array {
  const a = Float32Array.from({ length: n }, (_, i) => (i - n / 2) / 64);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

let be: Backend;
let live0 = 0;
beforeEach(async () => {
  be = await getTestBackend();
  live0 = be.liveTensors();
});

const win = (kh: number, kw: number, sh: number, sw: number, ph: number, pw: number): Pool2dParams =>
  ({ kernelH: kh, kernelW: kw, strideH: sh, strideW: sw, padH: ph, padW: pw });

const cases: [string, Shape, Pool2dParams][] = [
  ['7x7 k3 s2 p1', [3, 5, 7, 7], win(3, 3, 2, 2, 1, 1)],
  ['1x1 k1', [1, 3, 1, 1], win(1, 1, 1, 1, 0, 0)],
  ['9x15 k2 s2', [2, 7, 9, 15], win(2, 2, 2, 2, 0, 0)],
  ['17x17 k3 s1 p1 (overlapping)', [1, 4, 17, 17], win(3, 3, 1, 1, 1, 1)],
  ['8x11 k3x2 s1x2 p1x1', [3, 6, 8, 11], win(3, 2, 1, 2, 1, 1)],
  ['13x13 k5 s3 p2', [2, 3, 13, 13], win(5, 5, 3, 3, 2, 2)],
  ['7x7 k2 s3 (gaps)', [1, 33, 7, 7], win(2, 2, 3, 3, 0, 0)],
  // ceil_mode (the last windows overhang the input) and count_include_pad = false (a divisor per window)
  ['16x16 k3 s2 ceil', [2, 3, 16, 16], { ...win(3, 3, 2, 2, 0, 0), ceilMode: true }],
  ['4x5 k3 s2 p1 ceil', [1, 5, 4, 5], { ...win(3, 3, 2, 2, 1, 1), ceilMode: true }],
  ['8x8 k3 s2 p1 excl-pad', [2, 4, 8, 8], { ...win(3, 3, 2, 2, 1, 1), countIncludePad: false }],
  ['5x7 k3x2 s2 p1x1 ceil excl-pad', [1, 3, 5, 7], { ...win(3, 2, 2, 2, 1, 1), ceilMode: true, countIncludePad: false }],
];

describe('pooling kernels', () => {
  it.each(cases.map((c, i) => [...c, i] as const))('avgPool2d %s', async (_n, shape, p, i) => {
    const r = rng(10 + i);
    const yShape = pool2dOutShape(shape, p);
    const x = rand(sizeOf(shape), r), dy = rand(sizeOf(yShape), r);
    const tx = be.upload(x, shape), tdy = be.upload(dy, yShape);
    const y = be.avgPool2d(tx, p);
    const dx = be.avgPool2dBackward(tdy, shape, p);
    expect(y.shape).toEqual(yShape);
    expect(dx.shape).toEqual(shape);
    expectClose(await be.read(y), ref.avgPool2dForward(x, shape, p), 1e-5, 1e-6, 'y');
    expectClose(await be.read(dx), ref.avgPool2dBackward(dy, shape, p), 1e-5, 1e-6, 'dx');
    for (const t of [tx, tdy, y, dx]) be.release(t);
    expect(be.liveTensors()).toBe(live0);
  });

  it.each(cases.map((c, i) => [...c, i] as const))('maxPool2d %s', async (_n, shape, p, i) => {
    const r = rng(20 + i);
    const yShape = pool2dOutShape(shape, p);
    const x = distinct(sizeOf(shape), r), dy = rand(sizeOf(yShape), r);
    const tx = be.upload(x, shape), tdy = be.upload(dy, yShape);
    const y = be.maxPool2d(tx, p);
    const dx = be.maxPool2dBackward(tdy, tx, p);
    expect(y.shape).toEqual(yShape);
    expect(dx.shape).toEqual(shape);
    expect(await be.read(y)).toEqual(ref.maxPool2dForward(x, shape, p));
    expectClose(await be.read(dx), ref.maxPool2dBackward(dy, x, shape, p), 1e-5, 1e-6, 'dx');
    for (const t of [tx, tdy, y, dx]) be.release(t);
    expect(be.liveTensors()).toBe(live0);
  });

  it('maxPool2d breaks ties towards the first element of the window, like the reference', async () => {
    const shape: Shape = [2, 3, 9, 9];
    const p = win(3, 3, 2, 2, 1, 1);
    const r = rng(5);
    const x = Float32Array.from({ length: sizeOf(shape) }, () => Math.floor(r() * 3)); // many ties
    const yShape = pool2dOutShape(shape, p);
    const dy = rand(sizeOf(yShape), r);
    const tx = be.upload(x, shape), tdy = be.upload(dy, yShape);
    const dx = be.maxPool2dBackward(tdy, tx, p);
    expectClose(await be.read(dx), ref.maxPool2dBackward(dy, x, shape, p), 1e-5, 1e-6, 'dx');
    for (const t of [tx, tdy, dx]) be.release(t);
    expect(be.liveTensors()).toBe(live0);
  });

  it('rejects padding larger than half the kernel and mismatched dy', () => {
    const tx = be.upload(new Float32Array(16), [1, 1, 4, 4]);
    expect(() => be.maxPool2d(tx, win(2, 2, 1, 1, 2, 2))).toThrow(/padding/);
    expect(() => be.avgPool2dBackward(tx, [1, 1, 4, 4], win(2, 2, 2, 2, 0, 0))).toThrow(/dy/);
    be.release(tx);
    expect(be.liveTensors()).toBe(live0);
  });

  const gshapes: Shape[] = [[3, 5, 7, 7], [1, 3, 1, 1], [2, 7, 9, 15], [1, 301, 2, 3]];
  it.each(gshapes.map((s, i) => [s.join('x'), s, i] as const))('globalAvgPool %s', async (_n, shape, i) => {
    const r = rng(30 + i);
    const [N, C] = shape;
    const x = rand(sizeOf(shape), r), dy = rand(N * C, r);
    const tx = be.upload(x, shape), tdy = be.upload(dy, [N, C]);
    const y = be.globalAvgPool(tx);
    const dx = be.globalAvgPoolBackward(tdy, shape);
    expect(y.shape).toEqual([N, C]);
    expect(dx.shape).toEqual(shape);
    expectClose(await be.read(y), ref.globalAvgPoolForward(x, shape), 1e-5, 1e-6, 'y');
    expectClose(await be.read(dx), ref.globalAvgPoolBackward(dy, shape), 1e-5, 1e-7, 'dx');
    for (const t of [tx, tdy, y, dx]) be.release(t);
    expect(be.liveTensors()).toBe(live0);
  });
});
