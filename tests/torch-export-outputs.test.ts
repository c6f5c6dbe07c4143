/**
 * The PyTorch package of models with several outputs (issue 14), in Debian's /usr/bin/python3 torch 1.13:
 *  - fpn.onnx (p2, p3, p4, each an int32 output): model.py's forward returns the tuple (p2, p3, p4) and each output
 *    equals the studio's fake-quant output as the single-output feature maps do (tests/torch-export.test.ts);
 *    qparams.json "outputs" describes each output and its quantization;
 *  - yolo_block.onnx (boxes int32, scores int16: high-precision outputs) on unlabelled images: train_qat.py distills (forced: no output is
 *    class scores; the data has no labels) for a few steps under torchrun (1 process, gloo), the trained checkpoint
 *    comes back through import-torch, and the studio's fake-quant model of it computes PyTorch's two outputs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildQuantized } from '../src/cli/stages/quant-common.ts';
import { withoutLabels } from '../src/data/dataset.ts';
import { normalizeImages } from '../src/data/loader.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { importOnnx } from '../src/io/onnx/import.ts';
import { datasetSafetensors } from '../src/io/torch/dataset-file.ts';
import { buildTorchPackage } from '../src/io/torch/export-package.ts';
import { importTorchCheckpoint } from '../src/io/torch/import-checkpoint.ts';
import { fixture } from './helpers/onnx.ts';
import { perSampleErrors, PYTHON, run, tempDir, torchOutputsAll, writePackage } from './helpers/torch.ts';
import { blobImages, calibratedModel, studioOutputsAll } from './helpers/torch-models.ts';

describe('PyTorch export of models with several outputs', () => {
  it('fpn.onnx: forward returns (p2, p3, p4), each = the studio fake quant; qparams.json lists the outputs', async () => {
    const r = importOnnx(fixture('fpn'), 'fpn.onnx');
    const be = createCpuBackend();
    const [C, H, W] = r.inputShape;
    const { qm, ck } = await calibratedModel(be, 'onnx:fpn.onnx', r.graph, r.host, 'default_calibration',
      { march: 'bayes', rounding: 'half_even', observer: 'minmax' }, blobImages(32, [C, H, W], r.graph.numClasses, 1));
    const pkg = buildTorchPackage(ck, 'pixel/255');
    expect(pkg.qparams.outputs!.map((o) => [o.name, o.shape, o.dtype, o.activation, o.class_scores]))
      .toEqual([['p2', [16, 16, 16], 'int32', null, false], ['p3', [16, 8, 8], 'int32', null, false], ['p4', [16, 4, 4], 'int32', null, false]]);
    for (const o of pkg.qparams.outputs!) expect(pkg.qparams.int32_outputs).toContain(o.source);
    const py = new TextDecoder().decode(pkg.files['model.py']);
    expect(py).toMatch(/return \(x\d+, x\d+, x\d+\)/);
    expect(py).toContain('a tuple of 3: p2 float32 [N, 16, 16, 16]; p3 float32 [N, 16, 8, 8]; p4 float32 [N, 16, 4, 4]');

    const dir = tempDir('torch-outputs');
    writePackage(pkg, dir);
    const test = blobImages(40, [C, H, W], r.graph.numClasses, 7);
    const x = normalizeImages(test, 'pixel/255');
    const shape = [test.count, C, H, W];
    const want = await studioOutputsAll(qm, x, shape);
    const got = torchOutputsAll(dir, x, shape);
    expect(got).toHaveLength(3);
    got.forEach((g, k) => {
      expect(g.length).toBe(want[k].length);
      const e = perSampleErrors(g, want[k], test.count);
      console.log(`fpn output ${k}: torch vs studio fake quant: ${(100 * e.within1e5).toFixed(1)} % of ${test.count} images within 1e-5 relative, median ${e.median.toExponential(2)}, max ${e.max.toExponential(2)}`);
      // feature maps: as tests/torch-export.test.ts bounds them (a rare one-step flip at a rounding near-tie of an
      // inner site); here every output is an int32 conv accumulator, not requantized, so the flip reaches it through
      // that conv's weights: up to about two steps (2/127) of the image's range
      expect(e.within1e5).toBeGreaterThanOrEqual(0.85);
      expect(e.median).toBeLessThan(1e-6);
      expect(e.max).toBeLessThan(2e-2);
    });
    qm.store.dispose();
    qm.dispose();
  }, 300_000);

  it('yolo_block.onnx on unlabelled images: train_qat.py distills both outputs; the checkpoint comes back with the same outputs', async () => {
    const r = importOnnx(fixture('yolo_block'), 'yolo_block.onnx');
    const be = createCpuBackend();
    const [C, H, W] = r.inputShape;
    const { qm, ck } = await calibratedModel(be, 'onnx:yolo_block.onnx', r.graph, r.host, 'default_qat',
      { march: 'bayes', rounding: 'half_even', observer: 'minmax' }, blobImages(32, [C, H, W], r.graph.numClasses, 1));
    qm.store.dispose();
    qm.dispose();
    const pkg = buildTorchPackage(ck, 'pixel/255');
    expect(pkg.qparams.outputs!.map((o) => [o.name, o.dtype, o.activation !== null])).toEqual([['boxes', 'int32', false], ['scores', 'qint16', true]]);
    const dir = tempDir('torch-distill');
    writePackage(pkg, dir);
    // x only: the data has no labels
    const train = withoutLabels(blobImages(32, [C, H, W], r.graph.numClasses, 3));
    writeFileSync(join(dir, 'train.safetensors'), datasetSafetensors(train, 'pixel/255'));
    const out = join(dir, 'qat-out');
    const log = run(PYTHON, [join(dir, 'torchrun_compat.py'), '--nproc_per_node', '1', '--master_port', '29533',
      join(dir, 'train_qat.py'), '--data', join(dir, 'train.safetensors'), '--steps', '4', '--batch-size', '8', '--lr', '1e-3', '--out', out],
    { cwd: dir, timeoutMs: 240_000 });
    expect(log).toMatch(/QAT step 4\/4: distillation loss [\d.e-]+ \(1 processes/);

    // back into the studio: the same fake-quant outputs as PyTorch's trained model (checkpoint.pt), both outputs
    const files = (name: string) => ({ name, bytes: new Uint8Array(readFileSync(join(out, name))) });
    const imp = importTorchCheckpoint({ 'weights.safetensors': files('weights.safetensors'), 'qparams.json': files('qparams.json'), 'studio-graph.json': files('studio-graph.json') });
    const back = imp.checkpoint;
    expect(back.params[ck.graph.params[0].name]).not.toEqual(ck.params[ck.graph.params[0].name]); // it trained
    const test = blobImages(24, [C, H, W], r.graph.numClasses, 9);
    const x = normalizeImages(test, 'pixel/255');
    const shape = [test.count, C, H, W];
    const got = torchOutputsAll(dir, x, shape, join(out, 'checkpoint.pt'));
    const qmBack = buildQuantized(be, back.graph, back.params, back.qconfig, back.qsites);
    const want = await studioOutputsAll(qmBack, x, shape);
    expect(got).toHaveLength(2);
    got.forEach((g, k) => {
      const e = perSampleErrors(g, want[k], test.count);
      console.log(`yolo_block after distillation in PyTorch, output ${k}: studio vs torch ${(100 * e.within1e5).toFixed(1)} % within 1e-5, max ${e.max.toExponential(2)}`);
      expect(e.median).toBeLessThan(1e-5);
      expect(e.max).toBeLessThan(2e-2);
    });
    qmBack.store.dispose();
    qmBack.dispose();
  }, 300_000);
});
