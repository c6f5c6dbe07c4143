/** Calibrated studio models for the PyTorch export tests (CPU reference backend), as checkpoints. */
import { Tape } from '../../src/engine/autograd.ts';
import type { Backend } from '../../src/engine/backend.ts';
import type { ImageDataset } from '../../src/data/dataset.ts';
import type { Graph } from '../../src/graph/ir.ts';
import { fuse } from '../../src/graph/passes/fuse.ts';
import { runGraph } from '../../src/nn/executor.ts';
import { ParamStore, type HostParams } from '../../src/nn/params.ts';
import { calibrate } from '../../src/quant/calibrate.ts';
import { prepare } from '../../src/quant/prepare.ts';
import { qconfigTemplate, type TemplateOptions } from '../../src/quant/qconfig.ts';
import type { QuantCheckpoint } from '../../src/quant/quant-checkpoint.ts';
import { QuantizedModel } from '../../src/quant/quantized-model.ts';

export interface Calibrated {
  qm: QuantizedModel;
  ck: QuantCheckpoint;
}

/** Fuses (graph, host), prepares it with the template and calibrates it on `calib`. */
export async function calibratedModel(be: Backend, model: string, graph: Graph, host: HostParams, template: string,
  o: TemplateOptions, calib: ImageDataset): Promise<Calibrated> {
  const f = fuse(graph, host);
  const qc = qconfigTemplate(template, o);
  const qm = new QuantizedModel(be, prepare(f.graph, qc), new ParamStore(be, f.graph, f.host));
  await calibrate(qm, calib, { batchSize: 32 });
  const ck: QuantCheckpoint = {
    model, stage: 'calib', graph: f.graph, qconfig: qc, params: await qm.store.toHost(), qsites: await qm.toHost(),
    meta: { normalization: 'pixel/255' },
  };
  return { qm, ck };
}

/**
 * The PyTorch package (studio_quant) computes the fake quant's float formula (the float op, then the output's fake
 * quant); the studio's fake-quant model computes the simulator's integers for concat / add / sub / mul / int8 conv
 * (docs/fixed-point.md §2e), which differ from it by one-step flips at rounding ties. The export is compared with the
 * float formula (exactEnabled off; returns the previous setting); the integer forward is compared with the simulator
 * in tests/fq-exact-flow.test.ts.
 */
function floatFormula(qm: QuantizedModel): boolean {
  const prev = qm.exactEnabled;
  qm.exactEnabled = false;
  return prev;
}

/** The studio's fake-quant model (VALIDATION) on x, with the float formula the PyTorch package computes. */
export async function studioOutputs(qm: QuantizedModel, x: Float32Array, shape: number[]): Promise<Float32Array> {
  qm.setState('VALIDATION');
  const tape = new Tape(qm.be, false, false);
  const exact = floatFormula(qm);
  try {
    const { output } = runGraph(tape, qm.plan.graph, qm.store, tape.input(x, shape), { ...qm.hooks });
    return await qm.be.read(output.value);
  } finally {
    tape.dispose();
    qm.exactEnabled = exact;
  }
}

/** Every output of the studio's fake-quant model (VALIDATION) on x, in order. */
export async function studioOutputsAll(qm: QuantizedModel, x: Float32Array, shape: number[]): Promise<Float32Array[]> {
  qm.setState('VALIDATION');
  const tape = new Tape(qm.be, false, false);
  const exact = floatFormula(qm);
  try {
    const { outputs } = runGraph(tape, qm.plan.graph, qm.store, tape.input(x, shape), { ...qm.hooks });
    const got: Float32Array[] = [];
    for (const v of outputs) got.push(await qm.be.read(v.value));
    return got;
  } finally {
    tape.dispose();
    qm.exactEnabled = exact;
  }
}

/** The studio's fake-quant model (VALIDATION) on x: its output and the fake-quantized value of the given nodes. */
export async function studioValues(qm: QuantizedModel, x: Float32Array, shape: number[], nodes: string[]): Promise<Map<string, Float32Array>> {
  qm.setState('VALIDATION');
  const keep = new Set(nodes);
  const tape = new Tape(qm.be, false, false);
  const exact = floatFormula(qm);
  try {
    const { values } = runGraph(tape, qm.plan.graph, qm.store, tape.input(x, shape), { ...qm.hooks, keep: (n) => keep.has(n.id) });
    const out = new Map<string, Float32Array>();
    for (const id of nodes) out.set(id, await qm.be.read(values.get(id)!.value));
    return out;
  } finally {
    tape.dispose();
    qm.exactEnabled = exact;
  }
}

/** Random images (uint8 pixels) of the given shape, labels i % classes. */
export function randomImages(n: number, shape: number[], classes: number, seed: number): ImageDataset {
  let s = seed >>> 0;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const size = shape.reduce((a, b) => a * b, 1);
  return {
    name: 'random', count: n, channels: shape[0], height: shape[1], width: shape[2], numClasses: classes, classNames: [],
    images: Uint8Array.from({ length: n * size }, () => Math.floor(rnd() * 256)),
    labels: Uint8Array.from({ length: n }, (_, i) => i % classes),
  };
}

/**
 * Smooth colour blobs (uint8), one per image at a random place, size and colour, plus a little noise: unlike
 * uniform noise, whose global average is nearly the same for every image, they give a random-weight CNN's logits
 * (and its squeeze-excitation gates) a different value per image.
 */
export function blobImages(n: number, [C, H, W]: number[], classes: number, seed: number): ImageDataset {
  let s = seed >>> 0;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const px = new Uint8Array(n * C * H * W);
  for (let i = 0; i < n; i++) {
    const cx = rnd() * W, cy = rnd() * H, rad = 1.5 + rnd() * (W / 2);
    for (let c = 0; c < C; c++) {
      const amp = 40 + rnd() * 215;
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
        const d2 = (x - cx) ** 2 + (y - cy) ** 2;
        px[((i * C + c) * H + y) * W + x] = Math.min(255, Math.round(amp * Math.exp(-d2 / (rad * rad)) + rnd() * 30));
      }
    }
  }
  return { name: 'blobs', count: n, channels: C, height: H, width: W, numClasses: classes, classNames: [], images: px, labels: Uint8Array.from({ length: n }, (_, i) => i % classes) };
}
