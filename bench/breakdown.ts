/**
 * Where the time of one training step goes, per backend op (our engine only).
 *   node --import tsx --import ./scripts/wgsl-hooks.mjs bench/breakdown.ts [model] [batch] [reps]
 *
 * Backend ops are synchronous (they queue dispatches), so a step cannot be timed op by op in place.
 * Instead one warm trainStep is recorded through a Proxy (op name, argument shapes, parameters),
 * then every recorded call is replayed alone on fresh tensors of the same shapes, `reps` times,
 * each time as op + sync; the median is the op's cost. The sum is compared with a synced step: the
 * difference is what pipelining saves minus the host-side work (tape, allocation, submit) that the
 * replay leaves out. An empty round trip (flush + sync with nothing queued) is printed for scale.
 */
import type { Backend, BTensor } from '../src/engine/backend.ts';
import { acquireNodeDevice, type NodeGpuPreference } from '../src/engine/webgpu/node-gpu.ts';
import { WebGpuBackend } from '../src/engine/webgpu/webgpu-backend.ts';
import { GpuTensor } from '../src/engine/webgpu/gpu-context.ts';
import { median } from './harness.ts';
import { oursTrainer, randomBatch } from './cases/train.ts';
import { buildModel } from '../src/models/zoo.ts';

const model = process.argv[2] ?? 'cnn-small';
const batch = Number(process.argv[3] ?? 64);
const reps = Number(process.argv[4] ?? 5);

const SKIP = new Set(['read', 'release', 'liveTensors', 'flush', 'sync', 'dispose', 'kind', 'adapter', 'ctx']);

type Arg = { t: readonly number[] } | { ts: (readonly number[])[] } | { v: unknown };
interface Call { op: string; args: Arg[] }

const describe = (a: unknown): Arg => {
  if (a instanceof GpuTensor) return { t: [...a.shape] };
  if (Array.isArray(a) && a.length > 0 && a.every((x) => x instanceof GpuTensor)) return { ts: a.map((x: GpuTensor) => [...x.shape]) };
  if (a instanceof Float32Array) return { v: a.length };
  return { v: a };
};

function label(c: Call): string {
  const parts = c.args.map((a) => {
    if ('t' in a) return `[${a.t}]`;
    if ('ts' in a) return a.ts.map((s) => `[${s}]`).join('+');
    if (typeof a.v === 'object' && a.v !== null) {
      const o = a.v as Record<string, unknown>;
      if ('groups' in o) return `s${o.strideH} p${o.padH} g${o.groups}`;
      if ('kernelH' in o) return `k${o.kernelH} s${o.strideH}`;
      if ('beta1' in o) return 'adam';
      if (Array.isArray(a.v)) return `[${a.v}]`;
      return '';
    }
    return typeof a.v === 'number' && c.op === 'upload' ? `${a.v} floats` : String(a.v);
  });
  return `${c.op}(${parts.filter(Boolean).join(', ')})`;
}

const d = await acquireNodeDevice((process.env.QS_GPU as NodeGpuPreference | undefined) ?? 'auto');
const be = new WebGpuBackend(d.device, d.adapterName, d.gpu);
console.log(`adapter: ${be.adapter}; ${model}, batch ${batch}, ${reps} replays per op`);

const calls: Call[] = [];
let recording = false;
const recorder = new Proxy(be, {
  get(target, prop, _recv) {
    const v = Reflect.get(target, prop, target) as unknown;
    if (typeof v !== 'function') return v;
    const f = v as (...a: unknown[]) => unknown;
    if (typeof prop !== 'string' || SKIP.has(prop)) return f.bind(target);
    return (...a: unknown[]) => {
      if (recording) calls.push({ op: prop, args: a.map(describe) });
      return f.apply(target, a);
    };
  },
}) as Backend;

const graph = buildModel(model);
const data = randomBatch(batch, graph.inputShape, graph.numClasses);
const trainer = oursTrainer(recorder, model, data);
await trainer.run(2); // compile pipelines, create optimizer state
const stepMs: number[] = [];
for (let i = 0; i < reps; i++) {
  const t0 = performance.now();
  await trainer.run(1);
  stepMs.push(performance.now() - t0);
}
const dispatches0 = be.ctx.dispatches;
recording = true;
await trainer.run(1);
recording = false;
const dispatchesPerStep = be.ctx.dispatches - dispatches0;

// Empty round trip.
const emptyMs: number[] = [];
for (let i = 0; i < 20; i++) {
  const t0 = performance.now();
  be.flush();
  await be.sync();
  emptyMs.push(performance.now() - t0);
}

const fill = (n: number) => {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random(); // in [0, 1): valid labels (class 0), positive variances
  return a;
};
const size = (s: readonly number[]) => s.reduce((x, y) => x * y, 1);

async function replay(c: Call): Promise<number> {
  const inputs: BTensor[] = [];
  const args = c.args.map((a) => {
    if ('t' in a) { const t = be.upload(fill(size(a.t)), a.t); inputs.push(t); return t; }
    if ('ts' in a) return a.ts.map((s) => { const t = be.upload(fill(size(s)), s); inputs.push(t); return t; });
    if (c.op === 'upload' && typeof a.v === 'number') return fill(a.v);
    return a.v;
  });
  const f = (be as unknown as Record<string, (...a: unknown[]) => unknown>)[c.op].bind(be);
  const once = () => {
    const out = f(...args);
    for (const t of Array.isArray(out) ? out : out ? [out] : []) if (t instanceof GpuTensor) be.release(t);
  };
  once();
  await be.sync();
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    once();
    be.flush();
    await be.sync();
    ms.push(performance.now() - t0);
  }
  for (const t of inputs) be.release(t);
  return median(ms);
}

const timed: { call: Call; ms: number }[] = [];
for (const c of calls) timed.push({ call: c, ms: await replay(c) });

const total = timed.reduce((s, t) => s + t.ms, 0);
const byOp = new Map<string, { n: number; ms: number }>();
for (const t of timed) {
  const e = byOp.get(t.call.op) ?? { n: 0, ms: 0 };
  e.n++;
  e.ms += t.ms;
  byOp.set(t.call.op, e);
}
const pct = (ms: number) => `${((100 * ms) / total).toFixed(1).padStart(5)}%`;
console.log(`\nsynced step: median ${median(stepMs).toFixed(1)} ms (${stepMs.map((x) => x.toFixed(0)).join(' ')}); ${calls.length} backend calls, ${dispatchesPerStep} dispatches`);
console.log(`sum of replayed ops: ${total.toFixed(1)} ms; empty flush+sync round trip: median ${median(emptyMs).toFixed(2)} ms`);
console.log('\nper op kind (sum over the step):');
for (const [op, e] of [...byOp].sort((a, b) => b[1].ms - a[1].ms)) {
  console.log(`  ${op.padEnd(28)} ${String(e.n).padStart(3)} calls  ${e.ms.toFixed(1).padStart(8)} ms  ${pct(e.ms)}`);
}
console.log('\nper call, in step order:');
for (const t of timed) console.log(`  ${t.ms.toFixed(2).padStart(8)} ms  ${pct(t.ms)}  ${label(t.call)}`);
trainer.dispose();
process.exit(0);
