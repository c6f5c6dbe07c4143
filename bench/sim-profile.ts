/**
 * Where the CPU simulator's time goes: `node --import tsx --import ./scripts/wgsl-hooks.mjs bench/sim-profile.ts MODEL [batch] [reps]`
 * builds the model as the sim bench rows do (bench/cases/sim.ts), then times every layer of runIntModel's schedule
 * alone (execLayer on the inputs of a full run, median of `reps`) and prints the sum per layer kind and the
 * slowest layers. For `node --cpu-prof`, the same script runs the whole model `reps` times first.
 */
import type { IntLayer } from '../src/sim/model.ts';
import { execLayer, quantizeInput, runIntModel, type IntTensor } from '../src/sim/run.ts';
import { median } from './harness.ts';
import { simBenchModel } from './cases/sim.ts';

const [name = 'mobilenet_v3_small', batchArg = '64', repsArg = '5'] = process.argv.slice(2);
const batch = Number(batchArg), reps = Number(repsArg);
const m = await simBenchModel(name, batch);
const { im } = m;
runIntModel(im, m.x, batch);
let t0 = performance.now();
for (let i = 0; i < reps; i++) runIntModel(im, m.x, batch);
const whole = (performance.now() - t0) / reps;

/** The kind of a layer, with the conv shape class that picks its kernel. */
function kind(l: IntLayer, ins: IntTensor[]): string {
  if (l.op !== 'conv2d') return l.op;
  const [O, I, KH, KW] = l.weightShape;
  const g = l.geometry!;
  const pw = KH === 1 && KW === 1 && g.stride[0] === 1 && g.padding[0] === 0 && g.groups === 1;
  const dw = I === 1 && g.groups === O;
  const tag = pw ? 'pointwise' : dw ? `depthwise ${KH}x${KW}/s${g.stride[0]}` : `conv ${KH}x${KW}/s${g.stride[0]} g${g.groups}`;
  return `conv2d ${tag}${l.addRescale ? ' +add' : ''}${l.requant ? '' : ' int32'} (${ins[0].data.constructor.name})`;
}

const vals = new Map<string, IntTensor>();
const byKind = new Map<string, { ms: number; n: number }>();
const per: Array<{ id: string; k: string; ms: number; shape: number[] }> = [];
for (const l of im.layers) {
  if (l.op === 'quantize') {
    const ts: number[] = [];
    let d!: IntTensor;
    for (let r = 0; r < reps; r++) {
      t0 = performance.now();
      d = { data: quantizeInput(m.x, l, im.values[l.id]), shape: [batch, ...im.inputShape] };
      ts.push(performance.now() - t0);
    }
    vals.set(l.id, d);
    per.push({ id: l.id, k: 'quantize', ms: median(ts), shape: d.shape });
    continue;
  }
  if (l.op === 'dequantize') continue;
  const ins = l.inputs.map((id) => vals.get(id)!);
  const ts: number[] = [];
  let out!: IntTensor;
  for (let r = 0; r < reps; r++) {
    t0 = performance.now();
    out = execLayer(im, l, ins);
    ts.push(performance.now() - t0);
  }
  vals.set(l.id, out);
  per.push({ id: l.id, k: kind(l, ins), ms: median(ts), shape: out.shape });
}
for (const p of per) {
  const e = byKind.get(p.k) ?? { ms: 0, n: 0 };
  e.ms += p.ms;
  e.n++;
  byKind.set(p.k, e);
}
const sum = per.reduce((a, p) => a + p.ms, 0);
console.log(`${name} batch ${batch}: whole run ${whole.toFixed(1)} ms (mean of ${reps}), layers alone ${sum.toFixed(1)} ms`);
for (const [k, e] of [...byKind].sort((a, b) => b[1].ms - a[1].ms)) console.log(`  ${e.ms.toFixed(1).padStart(8)} ms  ${String(e.n).padStart(3)} x  ${k}`);
console.log('slowest layers:');
for (const p of [...per].sort((a, b) => b.ms - a.ms).slice(0, 15)) console.log(`  ${p.ms.toFixed(2).padStart(8)} ms  ${p.k}  [${p.shape}]  ${p.id}`);
