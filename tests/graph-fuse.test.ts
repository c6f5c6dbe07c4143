import { describe, expect, it } from 'vitest';
import { buildModel, MODEL_NAMES } from '../src/models/zoo.ts';
import { GraphBuilder } from '../src/graph/builder.ts';
import type { Graph, GraphNode } from '../src/graph/ir.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { fusionReport } from '../src/graph/passes/check.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { Tape } from '../src/engine/autograd.ts';
import { softmaxCrossEntropyFn } from '../src/engine/fns/loss.ts';
import { Optimizer } from '../src/engine/optim/optimizer.ts';
import { initHostParams, ParamStore, type HostParams } from '../src/nn/params.ts';
import { runGraph } from '../src/nn/executor.ts';
import { mulberry32 } from './helpers/random.ts';

/** Random parameters with non-trivial BN: gamma, beta, running mean and variance all random. */
function randomHost(g: Graph, seed: number): HostParams {
  const host = initHostParams(g, seed);
  const rand = mulberry32(seed + 1000);
  const u = (lo: number, hi: number) => lo + (hi - lo) * rand();
  for (const n of g.nodes) {
    if (n.op !== 'batchnorm2d') continue;
    const fill = (role: string, lo: number, hi: number) => host[n.params[role]].forEach((_, i, a) => { a[i] = u(lo, hi); });
    fill('weight', 0.5, 1.5);
    fill('bias', -0.5, 0.5);
    fill('running_mean', -0.3, 0.3);
    fill('running_var', 0.2, 2);
  }
  return host;
}

function randomInput(shape: number[], seed: number): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1);
}

/** Eval-mode forward (BN uses running statistics). */
async function evalForward(g: Graph, host: HostParams, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const be = createCpuBackend();
  const store = new ParamStore(be, g, host);
  const tape = new Tape(be, false, false);
  const { output } = runGraph(tape, g, store, tape.input(x, shape));
  const out = await be.read(output.value);
  tape.dispose();
  store.dispose();
  expect(be.liveTensors()).toBe(0);
  return out;
}

const relDiff = (a: Float32Array, b: Float32Array) => {
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
};

const ops = (g: Graph) => g.nodes.map((n) => n.op);
const count = (g: Graph, op: string) => g.nodes.filter((n) => n.op === op).length;

describe('fuse: fused and unfused float models agree (eval mode)', () => {
  for (const name of MODEL_NAMES) {
    for (const inputShape of [[1, 28, 28], [3, 32, 32]]) {
      it(`${name} on ${inputShape.join('x')}`, async () => {
        const g = buildModel(name, { inputShape });
        const host = randomHost(g, 7);
        const { graph: fg, host: fh } = fuse(g, host);
        expect(fg.nodes.length).toBeLessThan(g.nodes.length);
        expect(count(fg, 'batchnorm2d')).toBe(0);
        const shape = [3, ...inputShape];
        const x = randomInput(shape, 11);
        const ref = await evalForward(g, host, x, shape);
        const out = await evalForward(fg, fh, x, shape);
        expect(out.length).toBe(ref.length);
        expect(relDiff(out, ref)).toBeLessThan(1e-5);
      });
    }
  }
});

describe('fuse: structure', () => {
  it('cnn-small: three Conv+BN+ReLU convs, the residual add (after a ReLU) stays', () => {
    const g = buildModel('cnn-small');
    const { graph: fg, host } = fuse(g, randomHost(g, 1));
    const convs = fg.nodes.filter((n) => n.op === 'conv2d');
    expect(convs.map((n) => n.id)).toEqual(['block1.conv', 'block2.conv', 'block3.conv']);
    for (const c of convs) {
      expect(c.attrs.act).toBe('relu');
      expect(c.params.bias).toBe(`${c.id}.bias`);
      expect(host[c.params.bias]).toBeInstanceOf(Float32Array);
    }
    expect(convs[0].attrs.fusedFrom).toEqual(['block1.conv', 'block1.bn', 'block1.relu']);
    // zoo.ts builds add(relu(bn(conv3)), relu(bn(conv2))): the add follows an activation on both sides.
    // Fusing it as addInput would compute relu(conv3 + x) instead of relu(conv3) + x, so it stays.
    expect(convs.some((c) => c.attrs.addInput)).toBe(false);
    expect(ops(fg)).toEqual(['input', 'quant_stub', 'conv2d', 'conv2d', 'conv2d', 'add', 'global_avgpool', 'linear', 'dequant_stub']);
    expect(fg.nodes.find((n) => n.op === 'add')!.inputs).toEqual(['block3.conv', 'block2.conv']);
    expect(count(fg, 'linear')).toBe(1);
    expect(count(fg, 'batchnorm2d') + count(fg, 'relu')).toBe(0);
    expect(fg.output).toBe('dequant');
    expect(fg.params.some((p) => p.name.includes('.bn.'))).toBe(false);
    expect(Object.keys(host).some((k) => k.includes('.bn.'))).toBe(false);
    expect(new Set(Object.keys(host))).toEqual(new Set(fg.params.map((p) => p.name)));
    const report = fusionReport(fg);
    expect(report.unfused).toHaveLength(1);
    expect(report.unfused[0].pattern).toBe('conv2d+add');
    expect(report.unfused[0].reason).toMatch(/block3\.conv .*add must come before the activation/);
    expect(report.unfused[0].reason).toMatch(/block2\.conv output has 2 uses/);
  });

  it('a Conv+BN+Add+ReLU block (the pattern cnn-small would need) fuses into one conv', () => {
    const b = new GraphBuilder('res', [1, 8, 8], 10);
    let x = b.quantStub('input');
    const prev = b.relu('r1', b.bn('bn1', b.conv('c1', x, 4, 3, { padding: 1 })));
    const cur = b.bn('bn2', b.conv('c2', prev, 4, 3, { padding: 1 }));
    x = b.relu('r2', b.addValues('add', cur, prev));
    const g = b.build(b.dequantStub(b.linear('fc', b.flatten('flat', x), 10)));
    const { graph: fg } = fuse(g, randomHost(g, 3));
    const c2 = fg.nodes.find((n) => n.id === 'c2')!;
    expect(c2.attrs).toMatchObject({ act: 'relu', addInput: true, fusedFrom: ['c2', 'bn2', 'add', 'r2'] });
    expect(c2.inputs).toEqual(['c1', 'c1']);
    expect(fg.nodes.find((n) => n.id === 'flat')!.inputs).toEqual(['c2']);
    expect(count(fg, 'add') + count(fg, 'relu') + count(fg, 'batchnorm2d')).toBe(0);
  });

  it('mobilenetv2-mini: every Conv+BN+ReLU6 fused, every residual add fused into the project conv', () => {
    const g = buildModel('mobilenetv2-mini');
    const adds = g.nodes.filter((n) => n.op === 'add');
    const relu6 = g.nodes.filter((n) => n.op === 'relu6');
    expect(adds.length).toBeGreaterThanOrEqual(3);
    const { graph: fg } = fuse(g, randomHost(g, 2));
    expect(count(fg, 'batchnorm2d') + count(fg, 'relu6') + count(fg, 'add')).toBe(0);
    const convs = fg.nodes.filter((n) => n.op === 'conv2d');
    expect(convs.length).toBe(count(g, 'conv2d'));
    expect(convs.filter((c) => c.attrs.act === 'relu6').length).toBe(relu6.length);
    for (const c of convs) {
      if (c.id.endsWith('project.conv')) expect(c.attrs.act).toBeUndefined();
      else expect(c.attrs.act).toBe('relu6');
      expect(c.attrs.fusedFrom!.slice(0, 2)).toEqual([c.id, c.id.replace(/conv$/, 'bn')]);
    }
    for (const add of adds) {
      const block = add.id.replace(/\.add$/, '');
      const proj = fg.nodes.find((n) => n.id === `${block}.project.conv`)!;
      expect(proj.attrs.addInput).toBe(true);
      expect(proj.attrs.act).toBeUndefined();
      expect(proj.attrs.fusedFrom).toEqual([proj.id, `${block}.project.bn`, add.id]);
      // The add's other operand (the block input), re-pointed to the fused node that now produces it.
      const fusedInto = (id: string) => fg.nodes.find((n) => (n.attrs.fusedFrom ?? [n.id]).includes(id))!.id;
      expect(proj.inputs).toEqual([fusedInto(`${block}.dw.relu6`), fusedInto(add.inputs[1])]);
    }
    expect(convs.filter((c) => c.attrs.addInput).length).toBe(adds.length);
    expect(fusionReport(fg).unfused).toEqual([]);
  });

  it('resnet-mini: every residual Conv+BN+Add+ReLU fused, the first add input wins when both are convs', () => {
    const g = buildModel('resnet-mini');
    const { graph: fg, steps } = fuse(g, randomHost(g, 4));
    expect(count(fg, 'add') + count(fg, 'relu') + count(fg, 'batchnorm2d')).toBe(0);
    for (const layer of ['layer1', 'layer2', 'layer3']) {
      const b = fg.nodes.find((n) => n.id === `${layer}.b.conv`)!;
      expect(b.attrs).toMatchObject({ act: 'relu', addInput: true });
      expect(b.attrs.fusedFrom).toEqual([`${layer}.b.conv`, `${layer}.b.bn`, `${layer}.add`, `${layer}.relu`]);
    }
    // layer2 / layer3 have a downsample conv as the add's second operand; it stays a plain conv.
    const down = fg.nodes.find((n) => n.id === 'layer2.down.conv')!;
    expect(down.attrs.act).toBeUndefined();
    expect(fg.nodes.find((n) => n.id === 'layer2.b.conv')!.inputs).toEqual(['layer2.a.conv', 'layer2.down.conv']);
    expect(steps.map((s) => s.pass)).toEqual(['fold_bn', 'bn_as_conv', 'fuse_add', 'fuse_act']);
    expect(steps[2].fused.map((f) => f.pattern)).toEqual(['conv2d+add+relu', 'conv2d+add+relu', 'conv2d+add+relu']);
  });

  it('mlp: Linear+ReLU fused, the last linear has no act', () => {
    const g = buildModel('mlp');
    const { graph: fg } = fuse(g, initHostParams(g, 1));
    expect(ops(fg)).toEqual(['input', 'quant_stub', 'flatten', 'linear', 'linear', 'linear', 'dequant_stub']);
    expect(fg.nodes.filter((n) => n.op === 'linear').map((n) => n.attrs.act)).toEqual(['relu', 'relu', undefined]);
    expect(fg.nodes[3].attrs.fusedFrom).toEqual(['fc1', 'relu1']);
  });

  it('Linear+BN1d folds exactly (and the BN params and buffers disappear)', async () => {
    const b = new GraphBuilder('lbn', [6], 5);
    let x = b.quantStub('input');
    x = b.relu('relu', b.bn('bn', b.linear('fc1', x, 7)));
    const g = b.build(b.dequantStub(b.linear('fc2', x, 5)));
    const host = randomHost(g, 5);
    const { graph: fg, host: fh } = fuse(g, host);
    expect(ops(fg)).toEqual(['input', 'quant_stub', 'linear', 'linear', 'dequant_stub']);
    expect(fg.nodes[2].attrs).toMatchObject({ act: 'relu', fusedFrom: ['fc1', 'bn', 'relu'] });
    expect(Object.keys(fh).sort()).toEqual(['fc1.bias', 'fc1.weight', 'fc2.bias', 'fc2.weight']);
    const x0 = randomInput([4, 6], 9);
    expect(relDiff(await evalForward(fg, fh, x0, [4, 6]), await evalForward(g, host, x0, [4, 6]))).toBeLessThan(1e-5);
  });

  it('folds with the exact formula, creating the bias', () => {
    const b = new GraphBuilder('f', [1, 3, 3], 2);
    const g = b.build(b.bn('bn', b.conv('c', 'input', 2, 1)));
    const host: HostParams = {
      'c.weight': Float32Array.from([2, -3]),
      'bn.weight': Float32Array.from([0.5, 2]),
      'bn.bias': Float32Array.from([1, -1]),
      'bn.running_mean': Float32Array.from([0.25, -0.5]),
      'bn.running_var': Float32Array.from([3, 0.04]),
    };
    const { graph: fg, host: fh } = fuse(g, host);
    const s = [0.5 / Math.sqrt(3 + 1e-5), 2 / Math.sqrt(Math.fround(0.04) + 1e-5)];
    expect(Array.from(fh['c.weight'])).toEqual([Math.fround(2 * s[0]), Math.fround(-3 * s[1])]);
    expect(Array.from(fh['c.bias'])).toEqual([Math.fround(-0.25 * s[0] + 1), Math.fround(0.5 * s[1] - 1)]);
    expect(fg.output).toBe('c');
    expect(fg.params.map((p) => p.name)).toEqual(['c.weight', 'c.bias']);
  });

  it('a BN after a concat (DenseNet) becomes a depthwise 1x1 conv with its ReLU fused; the same eval output', async () => {
    const b = new GraphBuilder('dense', [3, 6, 6], 4);
    const q = b.quantStub('input');
    const c0 = b.conv('c0', q, 5, 3, { padding: 1 });
    const cat = b.concat('cat', [q, c0]);
    const r = b.relu('relu', b.bn('norm', cat));
    const g = b.build(b.dequantStub(b.conv('c1', r, 4, 1)));
    const host = randomHost(g, 21);
    const { graph: fg, host: fh } = fuse(g, host);
    const norm = fg.nodes.find((n) => n.id === 'norm')!;
    expect(norm).toMatchObject({ op: 'conv2d', params: { weight: 'norm.weight', bias: 'norm.bias' }, attrs: { act: 'relu', fusedFrom: ['norm', 'relu'] } });
    expect(norm.attrs.conv!.groups).toBe(8);
    expect(fg.params.find((p) => p.name === 'norm.weight')!.shape).toEqual([8, 1, 1, 1]);
    expect(Object.keys(fh).filter((k) => k.startsWith('norm.')).sort()).toEqual(['norm.bias', 'norm.weight']);
    const x0 = randomInput([2, 3, 6, 6], 22);
    expect(relDiff(await evalForward(fg, fh, x0, [2, 3, 6, 6]), await evalForward(g, host, x0, [2, 3, 6, 6]))).toBeLessThan(1e-5);
  });

  it('node count drops and fusedFrom names every removed node exactly once', () => {
    for (const name of MODEL_NAMES) {
      const g = buildModel(name);
      const { graph: fg } = fuse(g, randomHost(g, 6));
      const parts = fg.nodes.flatMap((n) => n.attrs.fusedFrom ?? [n.id]);
      expect(parts.sort()).toEqual(g.nodes.map((n) => n.id).sort());
      expect(fg.nodes.length).toBeLessThan(g.nodes.length);
      expect(fg.nodes.filter((n) => n.op === 'quant_stub' || n.op === 'dequant_stub').length).toBe(2);
    }
  });
});

describe('fuse: purity', () => {
  it('never mutates the input graph or host params; each step keeps its own graph', () => {
    for (const name of MODEL_NAMES) {
      const g = buildModel(name);
      const host = randomHost(g, 8);
      const gCopy = structuredClone(g);
      const hostCopy = structuredClone(host);
      const { graph: fg, host: fh, steps } = fuse(g, host);
      expect(g).toEqual(gCopy);
      // Byte comparison: toEqual walks typed arrays element by element, minutes for mobilenetv2's 2.2 M weights.
      expect(Object.keys(host).sort()).toEqual(Object.keys(hostCopy).sort());
      const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
      for (const k of Object.keys(host)) expect(bytes(host[k]).equals(bytes(hostCopy[k])), k).toBe(true);
      for (const k of Object.keys(fh)) if (k in host) expect(fh[k]).not.toBe(host[k]);
      expect(steps.map((s) => s.pass)).toEqual(['fold_bn', 'bn_as_conv', 'fuse_add', 'fuse_act']);
      // The first step still has the activations, the last is the result; the steps are copies.
      expect(steps[0].graph.nodes.length).toBeGreaterThan(steps[3].graph.nodes.length);
      expect(steps[3].graph).toEqual(fg);
      expect(steps[3].graph).not.toBe(fg);
      expect(count(steps[0].graph, 'batchnorm2d')).toBe(0);
    }
  });
});

describe('fusionReport', () => {
  it('finds deliberately unfusable patterns and the ops that stay float', () => {
    const b = new GraphBuilder('bad', [2, 8, 8], 10);
    let x = b.quantStub('input');
    const c1 = b.conv('c1', x, 4, 3, { padding: 1 });
    const bn1 = b.bn('bn1', c1); // c1 is also read by the concat: the BN can't fold
    const cat = b.concat('cat', [bn1, c1]);
    const c2 = b.conv('c2', cat, 4, 1);
    const r2 = b.relu('r2', c2);
    const pool = b.maxPool('pool', r2, 2, 1);
    const c3 = b.conv('c3', r2, 4, 2, { stride: 1 }); // r2 feeds both the pool and c3
    x = b.addValues('add', pool, c3); // pool + conv: the conv (its only use) takes the pool as addInput
    const c4 = b.conv('c4', x, 4, 1);
    const c5 = b.conv('c5', c4, 4, 1);
    const add2 = b.addValues('add2', c5, c4); // c4 has two uses, c5 one: c5 fuses, c4 doesn't
    const flat = b.flatten('flat', b.dequantStub(add2));
    const g = b.build(b.linear('fc', flat, 10)); // after the DeQuantStub: stays float
    const { graph: fg } = fuse(g, randomHost(g, 9));
    // c3 was fused with the add (its only use); c5 with add2.
    expect(fg.nodes.find((n) => n.id === 'c3')!.attrs.addInput).toBe(true);
    expect(fg.nodes.find((n) => n.id === 'c5')!.attrs.addInput).toBe(true);
    expect(fg.nodes.find((n) => n.id === 'c2')!.attrs.act).toBe('relu');
    // The BN c1 can't take (c1 also feeds the concat) becomes a depthwise 1x1 conv of its own, so the concat that
    // reads it is quantized too.
    expect(fg.nodes.find((n) => n.id === 'bn1')).toMatchObject({ op: 'conv2d', attrs: { conv: { groups: 4 }, fusedFrom: ['bn1'] } });
    const r = fusionReport(fg);
    expect(r.unfused).toEqual([]);
    const float = Object.fromEntries(r.float.map((f) => [f.node, f.reason]));
    expect(Object.keys(float).sort()).toEqual(['fc', 'flat']);
    expect(float.fc).toMatch(/outside the QuantStub/);
    // Before fusion the report names the Conv+BN that cannot fold, and why.
    expect(fusionReport(g).unfused.find((u) => u.pattern === 'conv2d+batchnorm2d')).toEqual(
      { nodes: ['c1', 'bn1'], pattern: 'conv2d+batchnorm2d', reason: expect.stringMatching(/c1 output has 2 uses \(also cat\)/) });
  });

  it('reports adds after non-convs, activations after multi-use convs, and BN after non-convs', () => {
    const b = new GraphBuilder('bad2', [2, 8, 8], 10);
    const q = b.quantStub('input');
    const c1 = b.conv('c1', q, 2, 1);
    const r1 = b.relu('r1', c1);
    const other = b.maxPool('mp', c1, 1); // c1 has two uses: the relu can't fuse
    const add = b.addValues('add', r1, other); // relu + pool: nothing to fuse into
    const bn = b.bn('bn', b.avgPool('ap', add, 1));
    const g = b.build(b.dequantStub(bn));
    const { graph: fg, steps } = fuse(g, randomHost(g, 10));
    // Only the BN after the pool changes: it becomes a depthwise conv (bn_as_conv); nothing else fuses.
    expect(steps.map((s) => s.fused)).toEqual([[], [{ pattern: 'batchnorm2d', nodes: ['bn'], into: 'bn' }], [], []]);
    const r0 = fusionReport(g);
    expect(r0.unfused.map((u) => u.pattern)).toEqual(['conv2d+relu', 'conv2d+add', 'batchnorm2d']);
    expect(r0.unfused[0].reason).toMatch(/c1 output has 2 uses \(also mp\)/);
    expect(r0.unfused[1].reason).toMatch(/r1 is a relu after a conv .*add must come before the activation to fuse; mp is a maxpool2d, not a conv/);
    expect(r0.unfused[2].reason).toMatch(/follows a avgpool2d/);
    expect(fusionReport(fg).unfused.map((u) => u.pattern)).toEqual(['conv2d+relu', 'conv2d+add']);
  });

  it('on an unfused zoo graph, every Conv+BN shows up as a pending fusion', () => {
    const g = buildModel('resnet-mini');
    const r = fusionReport(g);
    expect(r.unfused.filter((u) => u.pattern === 'conv2d+batchnorm2d').length).toBe(count(g, 'conv2d'));
    expect(r.unfused.every((u) => u.pattern !== 'conv2d+batchnorm2d' || /not fused/.test(u.reason))).toBe(true);
  });
});

describe('fuse: training the fused model', () => {
  it('gradients flow through fused conv (bias, add input, act): a training step changes weights and biases', async () => {
    const g = buildModel('resnet-mini');
    const { graph: fg, host } = fuse(g, randomHost(g, 12));
    const be = createCpuBackend();
    const store = new ParamStore(be, fg, host);
    const tape = new Tape(be, true, true);
    const x = tape.input(randomInput([4, 1, 28, 28], 13), [4, 1, 28, 28]);
    const { output } = runGraph(tape, fg, store, x);
    const labels = tape.input(Float32Array.from([0, 3, 5, 9]), [4]);
    const loss = tape.apply(softmaxCrossEntropyFn, [output, labels], null);
    const seed = tape.own(be.upload(Float32Array.of(1), [1]));
    tape.backward(loss, seed);
    const fused: GraphNode[] = fg.nodes.filter((n) => n.op === 'conv2d' && n.attrs.addInput);
    expect(fused.length).toBe(3);
    const names = [...fused, fg.nodes.find((n) => n.id === 'stem.conv')!].flatMap((n) => [n.params.weight, n.params.bias]);
    for (const name of names) {
      const grad = await be.read(store.param(name).grad!);
      expect(grad.some((v) => v !== 0)).toBe(true);
    }
    const opt = new Optimizer(be, [...store.vars.values()], { name: 'sgd', lr: 0.1 });
    opt.step();
    const after = await store.toHost();
    for (const name of names) expect(Array.from(after[name])).not.toEqual(Array.from(host[name]));
    opt.dispose();
    tape.dispose();
    store.dispose();
    expect(be.liveTensors()).toBe(0);
  });
});
