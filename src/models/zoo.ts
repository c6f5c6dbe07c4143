/**
 * The model zoo. Every model marks its quantized region with QuantStub/DeQuantStub, like models
 * prepared for horizon_plugin_pytorch. Inputs: 1x28x28 (Fashion-MNIST, pixel/255) or 3x32x32 (CIFAR-10); the
 * CLI and the page build them for the loaded data's shape and classes.
 */
import { GraphBuilder } from '../graph/builder.ts';
import type { Graph } from '../graph/ir.ts';

export interface ModelOptions {
  inputShape?: number[];
  numClasses?: number;
  /** mobilenetv2(-mini) width multiplier (default 1.0). */
  width?: number;
}

export const MODEL_NAMES = ['cnn-small', 'mlp', 'resnet-mini', 'mobilenetv2-mini', 'mobilenetv2'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** conv + BN + ReLU, the unit that fusion folds into one node. */
function convBnAct(b: GraphBuilder, name: string, x: string, outC: number, k: number,
  o: { stride?: number; padding?: number; groups?: number } = {}, act: 'relu' | 'relu6' | null = 'relu'): string {
  return b.within(name, () => {
    let y = b.conv('conv', x, outC, k, { ...o, bias: false });
    y = b.bn('bn', y);
    if (act === 'relu') y = b.relu('relu', y);
    if (act === 'relu6') y = b.relu6('relu6', y);
    return y;
  });
}

/** Exactly as specified: 32 050 parameters on 1x28x28. */
function cnnSmall(o: Required<Pick<ModelOptions, 'inputShape' | 'numClasses'>>): Graph {
  const b = new GraphBuilder('cnn-small', o.inputShape, o.numClasses);
  let x = b.quantStub('input');
  x = convBnAct(b, 'block1', x, 24, 3, { padding: 1 });
  const prev = convBnAct(b, 'block2', x, 48, 3, { stride: 2, padding: 1 });
  const cur = convBnAct(b, 'block3', prev, 48, 3, { padding: 1 });
  x = b.addValues('add', cur, prev);
  x = b.globalAvgPool('pool', x);
  x = b.linear('fc', x, o.numClasses);
  return b.build(b.dequantStub(x));
}

function mlp(o: Required<Pick<ModelOptions, 'inputShape' | 'numClasses'>>): Graph {
  const b = new GraphBuilder('mlp', o.inputShape, o.numClasses);
  let x = b.quantStub('input');
  x = b.flatten('flatten', x);
  x = b.relu('relu1', b.linear('fc1', x, 256));
  x = b.relu('relu2', b.linear('fc2', x, 128));
  x = b.linear('fc3', x, o.numClasses);
  return b.build(b.dequantStub(x));
}

function resnetMini(o: Required<Pick<ModelOptions, 'inputShape' | 'numClasses'>>): Graph {
  const b = new GraphBuilder('resnet-mini', o.inputShape, o.numClasses);
  let x = b.quantStub('input');
  x = convBnAct(b, 'stem', x, 16, 3, { padding: 1 });
  const basicBlock = (name: string, inp: string, outC: number, stride: number) => b.within(name, () => {
    const inC = b.shapeOf(inp)[0];
    let y = convBnAct(b, 'a', inp, outC, 3, { stride, padding: 1 });
    y = convBnAct(b, 'b', y, outC, 3, { padding: 1 }, null);
    const shortcut = stride !== 1 || inC !== outC ? convBnAct(b, 'down', inp, outC, 1, { stride }, null) : inp;
    return b.relu('relu', b.addValues('add', y, shortcut));
  });
  x = basicBlock('layer1', x, 16, 1);
  x = basicBlock('layer2', x, 32, 2);
  x = basicBlock('layer3', x, 64, 2);
  x = b.globalAvgPool('pool', x);
  x = b.linear('fc', x, o.numClasses);
  return b.build(b.dequantStub(x));
}

const makeDivisible = (v: number, d = 8) => Math.max(d, Math.floor((v + d / 2) / d) * d);

/** MobileNetV2's inverted residual: 1x1 expand (t > 1), 3x3 depthwise with the stride, 1x1 linear projection;
 *  the input is added back when the shape is kept. */
function invertedResidual(b: GraphBuilder, name: string, inp: string, t: number, outC: number, stride: number): string {
  return b.within(name, () => {
    const inC = b.shapeOf(inp)[0];
    const hidden = Math.round(inC * t);
    let y = t !== 1 ? convBnAct(b, 'expand', inp, hidden, 1, {}, 'relu6') : inp;
    y = convBnAct(b, 'dw', y, hidden, 3, { stride, padding: 1, groups: hidden }, 'relu6');
    y = convBnAct(b, 'project', y, outC, 1, {}, null);
    return stride === 1 && inC === outC ? b.addValues('add', y, inp) : y;
  });
}

/** (expansion t, channels c, repeats n, first stride s) rows -> the blocks, named block0, block1, ... */
function invertedResidualStack(b: GraphBuilder, x: string, settings: [number, number, number, number][], w: (c: number) => number): string {
  let idx = 0;
  for (const [t, c, n, s] of settings) {
    for (let i = 0; i < n; i++) x = invertedResidual(b, `block${idx++}`, x, t, w(c), i === 0 ? s : 1);
  }
  return x;
}

function mobilenetV2Mini(o: Required<ModelOptions>): Graph {
  const b = new GraphBuilder('mobilenetv2-mini', o.inputShape, o.numClasses);
  const w = (c: number) => makeDivisible(c * o.width);
  let x = b.quantStub('input');
  x = convBnAct(b, 'stem', x, w(16), 3, { padding: 1 }, 'relu6');
  // As in MobileNetV2 but for 28x28 / 32x32 inputs.
  x = invertedResidualStack(b, x, [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 2, 2], [6, 64, 2, 2]], w);
  x = convBnAct(b, 'head', x, w(128), 1, {}, 'relu6');
  x = b.globalAvgPool('pool', x);
  x = b.linear('fc', x, o.numClasses);
  return b.build(b.dequantStub(x));
}

/** torchvision's _make_divisible: round to a multiple of 8, never more than 10 % down. */
const tvDivisible = (v: number, d = 8) => {
  const n = Math.max(d, Math.floor((v + d / 2) / d) * d);
  return n < 0.9 * v ? n + d : n;
};

/**
 * MobileNetV2 (torchvision's mobilenet_v2: its blocks, settings, 1280 head channels; 2.24 M parameters at width 1.0
 * and 10 classes) adapted to 32x32 inputs as the usual CIFAR variants do: the stem and the first 24-channel block
 * keep stride 1 (torchvision: 2 and 2), so the 32x32 image is downsampled 8x, to 4x4 before the pooling, instead of
 * 32x. The model of the Horizon toolchain's CIFAR-10 example. Dropout before the classifier is left out (it has no
 * parameters and is the identity at evaluation).
 */
function mobilenetV2(o: Required<ModelOptions>): Graph {
  const b = new GraphBuilder('mobilenetv2', o.inputShape, o.numClasses);
  const w = (c: number) => tvDivisible(c * o.width);
  let x = b.quantStub('input');
  x = convBnAct(b, 'stem', x, w(32), 3, { padding: 1 }, 'relu6');
  x = invertedResidualStack(b, x, [[1, 16, 1, 1], [6, 24, 2, 1], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]], w);
  x = convBnAct(b, 'head', x, tvDivisible(1280 * Math.max(1, o.width)), 1, {}, 'relu6');
  x = b.globalAvgPool('pool', x);
  x = b.linear('fc', x, o.numClasses);
  return b.build(b.dequantStub(x));
}

export function buildModel(name: string, opts: ModelOptions = {}): Graph {
  const o = { inputShape: opts.inputShape ?? [1, 28, 28], numClasses: opts.numClasses ?? 10, width: opts.width ?? 1 };
  switch (name) {
    case 'cnn-small': return cnnSmall(o);
    case 'mlp': return mlp(o);
    case 'resnet-mini': return resnetMini(o);
    case 'mobilenetv2-mini': return mobilenetV2Mini(o);
    case 'mobilenetv2': return mobilenetV2(o);
    default: throw new Error(`unknown model "${name}" (known: ${MODEL_NAMES.join(', ')})`);
  }
}
