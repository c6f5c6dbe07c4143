import { describe, expect, it } from 'vitest';
import { convParams, poolParams } from '../src/engine/backend.ts';
import { CpuBackend, createCpuBackend } from '../src/engine/reference/cpu-backend.ts';

describe('CpuBackend', () => {
  it('describes itself', () => {
    const be = createCpuBackend();
    expect(be).toBeInstanceOf(CpuBackend);
    expect(be.kind).toBe('cpu');
    expect(be.adapter).toBe('CPU reference (TypeScript)');
  });

  it('uploads, convolves and reads back', async () => {
    const be = createCpuBackend();
    const x = be.upload(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), [1, 1, 3, 3]);
    const w = be.upload(Float32Array.from([1, 2, 3, 4]), [1, 1, 2, 2]);
    const b = be.upload(Float32Array.from([0.5]), [1]);
    const y = be.conv2d(x, w, b, convParams({}));
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expect(y.size).toBe(4);
    const out = await be.read(y);
    expect(out).toBeInstanceOf(Float32Array);
    expect(Array.from(out)).toEqual([37.5, 47.5, 67.5, 77.5]);
    out[0] = 123; // read returns a copy
    expect((await be.read(y))[0]).toBe(37.5);
    const pooled = be.maxPool2d(y, poolParams(2));
    expect(Array.from(await be.read(pooled))).toEqual([77.5]);
    const [loss, probs] = be.softmaxCrossEntropy(be.reshape(y, [1, 4]), be.upload(Float32Array.from([3]), [1]));
    expect(loss.shape).toEqual([1]);
    expect(probs.shape).toEqual([1, 4]);
    be.flush();
    await be.sync();
    be.dispose();
  });

  it('upload copies its input, in-place ops mutate the handle', async () => {
    const be = createCpuBackend();
    const src = Float32Array.from([1, 2, 3]);
    const p = be.upload(src, [3]);
    src[0] = 100;
    const g = be.upload(Float32Array.from([1, 1, 1]), [3]);
    be.sgdStepInPlace(p, g, null, { lr: 0.5, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false }, true);
    expect(Array.from(await be.read(p))).toEqual([0.5, 1.5, 2.5]);
    expect(() => be.upload(src, [2])).toThrow();
  });

  it('counts live tensors and catches double releases and use after release', async () => {
    const be = createCpuBackend();
    expect(be.liveTensors()).toBe(0);
    const a = be.zeros([2, 3]);
    const b = be.scale(a, 2);
    const [mean, variance] = be.bnStats(b);
    expect(be.liveTensors()).toBe(4);
    for (const t of [a, mean, variance]) be.release(t);
    expect(be.liveTensors()).toBe(1);
    expect(() => be.release(a)).toThrow(/already-released/);
    expect(be.liveTensors()).toBe(1);
    await expect(be.read(a)).rejects.toThrow();
    expect(() => be.scale(a, 1)).toThrow();
    be.release(b);
    expect(be.liveTensors()).toBe(0);
    expect(() => be.release({ shape: [1], size: 1 })).toThrow();
  });
});
