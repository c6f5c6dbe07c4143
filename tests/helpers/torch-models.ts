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

/** The studio's fake-quant model (VALIDATION) on x. */
export async function studioOutputs(qm: QuantizedModel, x: Float32Array, shape: number[]): Promise<Float32Array> {
  qm.setState('VALIDATION');
  const tape = new Tape(qm.be, false, false);
  try {
    const { output } = runGraph(tape, qm.plan.graph, qm.store, tape.input(x, shape), { ...qm.hooks });
    return await qm.be.read(output.value);
  } finally {
    tape.dispose();
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
