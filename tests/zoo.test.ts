import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildModel, MODEL_NAMES } from '../src/models/zoo.ts';
import { macsPerSample, parameterCount } from '../src/graph/ir.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { Tape } from '../src/engine/autograd.ts';
import { initHostParams, ParamStore } from '../src/nn/params.ts';
import { runGraph } from '../src/nn/executor.ts';

describe('model zoo', () => {
  it('cnn-small is exactly the specified network (32 050 parameters)', () => {
    const g = buildModel('cnn-small');
    expect(parameterCount(g)).toBe(32_050);
    const convs = g.nodes.filter((n) => n.op === 'conv2d');
    expect(convs.map((n) => n.shape)).toEqual([[24, 28, 28], [48, 14, 14], [48, 14, 14]]);
    expect(convs[1].attrs.conv).toMatchObject({ strideH: 2, padH: 1 });
    const add = g.nodes.find((n) => n.op === 'add')!;
    expect(add.inputs).toEqual(['block3.relu', 'block2.relu']);
    expect(g.nodes[1].op).toBe('quant_stub');
    expect(g.nodes[g.nodes.length - 1].op).toBe('dequant_stub');
  });

  for (const name of MODEL_NAMES) {
    for (const inputShape of [[1, 28, 28], [3, 32, 32]]) {
      it(`${name} on ${inputShape.join('x')} runs forward with the shapes it declares`, async () => {
        const g = buildModel(name, { inputShape });
        expect(macsPerSample(g)).toBeGreaterThan(0);
        const be = createCpuBackend();
        const store = new ParamStore(be, g, initHostParams(g, 1));
        const tape = new Tape(be, false, false);
        const x = tape.input(new Float32Array(2 * inputShape.reduce((a, b) => a * b)).fill(0.5), [2, ...inputShape]);
        const { output, values } = runGraph(tape, g, store, x, { keep: () => true });
        expect(output.shape).toEqual([2, 10]);
        for (const n of g.nodes) expect(values.get(n.id)!.shape.slice(1)).toEqual(n.shape);
        const logits = await be.read(output.value);
        expect(logits.every(Number.isFinite)).toBe(true);
        tape.dispose();
        store.dispose();
        expect(be.liveTensors()).toBe(0);
      });
    }
  }

  it('mobilenetv2-mini has depthwise convs, ReLU6 and residual adds', () => {
    const g = buildModel('mobilenetv2-mini', { width: 0.5 });
    const dw = g.nodes.filter((n) => n.op === 'conv2d' && n.attrs.conv!.groups > 1);
    expect(dw.length).toBeGreaterThan(3);
    for (const n of dw) expect(n.attrs.conv!.groups).toBe(g.params.find((p) => p.name === n.params.weight)!.shape[0]);
    expect(g.nodes.some((n) => n.op === 'relu6')).toBe(true);
    expect(g.nodes.filter((n) => n.op === 'add').length).toBeGreaterThanOrEqual(3);
  });

  it('mobilenetv2 is torchvision\'s mobilenet_v2(num_classes=10) adapted to 3x32x32 (computed by PyTorch)', () => {
    // The reference: torchvision's model with the CIFAR strides, its parameter count and every conv's weight shape,
    // stride, padding, groups and output shape on a 32x32 input (scripts/torchvision-mobilenetv2.py).
    const ref = JSON.parse(execFileSync('/usr/bin/python3', ['scripts/torchvision-mobilenetv2.py'], { encoding: 'utf8', timeout: 100_000 })) as {
      parameters: number; linear: number[][];
      convs: { weight: number[]; stride: number[]; padding: number[]; groups: number; bias: boolean; output: number[] }[];
    };
    const g = buildModel('mobilenetv2', { inputShape: [3, 32, 32], numClasses: 10 });
    expect(parameterCount(g)).toBe(ref.parameters);
    const shapeOf = (name: string) => g.params.find((p) => p.name === name)!.shape;
    const ours = g.nodes.filter((n) => n.op === 'conv2d').map((n) => ({
      weight: shapeOf(n.params.weight), stride: [n.attrs.conv!.strideH, n.attrs.conv!.strideW], padding: [n.attrs.conv!.padH, n.attrs.conv!.padW],
      groups: n.attrs.conv!.groups, bias: n.params.bias !== undefined, output: n.shape,
    }));
    expect(ours).toEqual(ref.convs);
    const fc = g.nodes.filter((n) => n.op === 'linear');
    expect(fc.map((n) => shapeOf(n.params.weight))).toEqual(ref.linear);
    // Every block whose input and output shapes agree adds its input back, as torchvision's use_res_connect does.
    expect(g.nodes.filter((n) => n.op === 'add').length).toBe(10);
  }, 120_000);

  it('rejects unknown models with the known names', () => {
    expect(() => buildModel('vgg')).toThrow(/unknown model "vgg".*cnn-small/);
  });
});
