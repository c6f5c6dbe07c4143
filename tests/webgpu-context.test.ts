import { afterAll, describe, expect, it } from 'vitest';
import { u32, type GpuTensor } from '../src/engine/webgpu/gpu-context.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';

afterAll(destroyTestBackend);

describe('GpuContext', () => {
  it('uploads, runs elementwise kernels across a 2-D grid and reads back', async () => {
    const be = await getTestBackend();
    const n = 70_001; // not a multiple of the workgroup size
    const a = new Float32Array(n).map((_, i) => (i % 97) - 48);
    const b = new Float32Array(n).map((_, i) => (i % 13) * 0.5);
    const ta = be.upload(a, [n]);
    const tb = be.upload(b, [n]);
    const sum = be.add(ta, tb);
    const relu6 = be.clamp(sum, 0, 6);
    const scaled = be.scale(relu6, -2);
    const [s, r, sc] = await Promise.all([be.read(sum), be.read(relu6), be.read(scaled)]);
    for (let i = 0; i < n; i += 997) {
      const e = Math.fround(a[i] + b[i]);
      expect(s[i]).toBe(e);
      expect(r[i]).toBe(Math.min(Math.max(e, 0), 6));
      expect(sc[i]).toBe(Math.fround(-2 * Math.min(Math.max(e, 0), 6)));
    }
    for (const t of [ta, tb, sum, relu6, scaled]) be.release(t);
    expect(be.liveTensors()).toBe(0);
  });

  it('recycles buffers: repeated work keeps the live count flat', async () => {
    const be = await getTestBackend();
    const x = be.upload(new Float32Array(1000).fill(1), [10, 100]);
    for (let step = 0; step < 50; step++) {
      const y = be.clamp(x, 0, Infinity);
      const z = be.reshape(y, [1000]);
      be.release(y);
      be.release(z);
    }
    const out = be.reshape(x, [100, 10]);
    expect((await be.read(out))[999]).toBe(1);
    be.release(out);
    be.release(x);
    expect(be.liveTensors()).toBe(0);
    expect(() => be.release(x)).toThrow(/double release/);
  });
});

describe('pipeline-overridable constants', () => {
  it('specialise one shader text into separate cached pipelines', async () => {
    const be = await getTestBackend();
    const code = `override FACTOR: f32 = 1.0;
      @group(0) @binding(0) var<uniform> p: vec4u;
      @group(0) @binding(1) var<storage, read_write> out: array<f32>;
      @compute @workgroup_size(1) fn main() { out[0] = FACTOR * f32(p.x); }`;
    const run = async (constants?: Record<string, number>) => {
      const out = be.zeros([1]) as GpuTensor;
      be.ctx.run({ key: 'override-test', code, entry: 'main', constants, inputs: [], outputs: [out], params: [u32(3)], workgroups: [1] });
      const v = (await be.read(out))[0];
      be.release(out);
      return v;
    };
    const before = be.ctx.pipelines.size;
    expect(await run()).toBe(3);
    expect(await run({ FACTOR: 2 })).toBe(6);
    expect(await run({ FACTOR: -1 })).toBe(-3);
    expect(await run({ FACTOR: 2 })).toBe(6);
    expect(be.ctx.pipelines.size - before).toBe(3);
  });
});

describe('GpuContext errors', () => {
  it('turns a WGSL compile error into an exception instead of silent zeros', async () => {
    const be = await getTestBackend();
    const x = be.upload(new Float32Array(4), [4]);
    const out = be.zeros([4]);
    const bad = '@group(0) @binding(0) var<uniform> p: vec4u;\n@compute @workgroup_size(1) fn main() { let a: f32 = undefined_symbol; }';
    let caught: unknown = null;
    try {
      be.ctx.run({ key: 'broken', code: bad, entry: 'main', inputs: [], outputs: [out as GpuTensor], params: [], workgroups: [1] });
      await be.read(out);
    } catch (e) {
      caught = e;
    }
    expect(String(caught)).toMatch(/WebGPU error/);
    be.release(x);
    be.release(out);
  });
});
