/**
 * PyTorch export of transformer blocks: the ViT fixtures (tests/fixtures/onnx/vit_tiny.onnx: patch conv, conv
 * position encoding, 2 pre-norm layers, mean pooling; vit_cls.onnx: a learned class token and position table, the
 * token-0 readout) export as a package (nn.LayerNorm, studio_quant.LearnedConstant, linear on tokens, matmul, softmax,
 * GELU, token reshapes / transposes) whose build() computes the studio's fake-quant model (CPU reference backend):
 *  - free-running, 40 blob images: the logits (within 1e-5 relative per image on most, the same top-1);
 *  - teacher-forced (torch_run.py --force: every site passes the studio's value on, so each op is fed the studio's
 *    inputs): every activation site the studio's integers but for near-tie one-step flips. PyTorch computes layer
 *    norm, softmax and GELU in float32, the CPU reference in float64 before rounding, so a value within float32 noise
 *    of a rounding boundary of its (int16) site may land one step apart; free-running, such a flip is carried into
 *    later sites and, through the class token's readout, into the logits;
 *  - vit_tiny on march bayes, where matmul, softmax and layer norm are float islands (the integer model computes them
 *    in float between a dequantize and its site: the fake-quant model, and the export, compute them as float ops with
 *    their site's fake quant); vit_cls on nash-e, where every op is integer;
 *  - train_qat.py (torchrun_compat, 1 process, gloo) trains vit_cls 3 steps: the class token, the position table
 *    (nn.Parameters with their own activation fake quant) and a LayerNorm's weight and bias move; import-torch brings
 *    them back, and the imported checkpoint's fake-quant model in the studio = PyTorch's checkpoint.pt.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildQuantized } from '../src/cli/stages/quant-common.ts';
import { normalizeImages } from '../src/data/loader.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { importOnnx } from '../src/io/onnx/import.ts';
import { buildTorchPackage } from '../src/io/torch/export-package.ts';
import { importTorchCheckpoint } from '../src/io/torch/import-checkpoint.ts';
import { encodeSafetensors } from '../src/io/torch/safetensors.ts';
import type { March } from '../src/quant/march.ts';
import { prepare } from '../src/quant/prepare.ts';
import { fixture } from './helpers/onnx.ts';
import { perSampleErrors, PYTHON, run, tempDir, top1Agreement, torchOutputs, torchTaps, writePackage } from './helpers/torch.ts';
import { blobImages, calibratedModel, studioOutputs, studioValues } from './helpers/torch-models.ts';
import { siteDiffs, siteReport } from './helpers/torch-sites.ts';

const TEST_IMAGES = 40;

async function calibrated(name: string, template: string, march: March) {
  const r = importOnnx(fixture(name), `${name}.onnx`);
  const { qm, ck } = await calibratedModel(createCpuBackend(), `onnx:${name}.onnx`, r.graph, r.host, template,
    { march, observer: 'minmax' }, blobImages(32, r.inputShape, 10, 1));
  return { qm, ck, inputShape: r.inputShape };
}

describe('PyTorch export of a ViT: build() = the studio fake-quant model', () => {
  for (const [name, march, islands, minWithin] of [
    // matmul, softmax and layer norm are float islands on bayes
    ['vit_tiny', 'bayes', ['layernorm', 'matmul', 'softmax'], 0.95],
    // every op integer; the class token's readout carries a flip of any of its 32 features into the logits
    ['vit_cls', 'nash-e', [], 0.85],
  ] as const) {
    it(`${name} (${march}): logits free-running; every activation site teacher-forced`, async () => {
      const t0 = performance.now();
      const { qm, ck, inputShape } = await calibrated(name, 'default_calibration', march);
      const plan = prepare(ck.graph, ck.qconfig);
      const islandOps = new Set(plan.floatIslands.map((i) => ck.graph.nodes.find((n) => n.id === i.node)!.op));
      expect([...islandOps].sort()).toEqual([...islands]);
      const pkg = buildTorchPackage(ck, 'pixel/255');
      const py = new TextDecoder().decode(pkg.files['model.py']);
      expect(py).toContain("nn.LayerNorm(32, eps=0.000009999999747378752)"); // ONNX epsilon 1e-5 as float32
      if (name === 'vit_cls') expect(py).toContain('sq.LearnedConstant([17, 32])');
      const dir = tempDir('torch-vit');
      writePackage(pkg, dir);

      const test = blobImages(TEST_IMAGES, inputShape, 10, 7);
      const x = normalizeImages(test, 'pixel/255');
      const shape = [test.count, ...inputShape];
      const sites = Object.entries(pkg.qparams.activations);
      const keys = sites.map(([key]) => key);
      const want = await studioOutputs(qm, x, shape);
      const mine = await studioValues(qm, x, shape, sites.map(([, a]) => a.node));

      // free-running
      const free = torchTaps(dir, x, shape, keys);
      const e = perSampleErrors(free.y, want, test.count);
      const top1 = top1Agreement(free.y, want, test.count);
      const carried = siteDiffs(sites, free.taps, mine);
      // teacher-forced: each op on the studio's inputs
      const forced = siteDiffs(sites, torchTaps(dir, x, shape, keys, new Map(sites.map(([key, a]) => [key, mine.get(a.node)!]))).taps, mine);
      const flips = forced.reduce((s, d) => s + d.off, 0), values = forced.reduce((s, d) => s + d.total, 0);
      console.log(`${name} (${march}): logits ${(100 * e.within1e5).toFixed(1)} % of ${test.count} images within 1e-5 relative ` +
        `(median ${e.median.toExponential(2)}, max ${e.max.toExponential(2)}), top-1 agreement ${top1.toFixed(1)} %; ` +
        `teacher-forced sites: ${flips} of ${values} values one step apart (${siteReport(forced.filter((d) => d.off))}); ` +
        `free-running sites: ${siteReport(carried.filter((d) => d.off))}; ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      expect(e.within1e5).toBeGreaterThanOrEqual(minWithin);
      expect(e.median).toBeLessThan(1e-6);
      expect(top1).toBeGreaterThanOrEqual(97.5);
      for (const d of forced) {
        expect(d.worst, `${name} ${d.node}`).toBeLessThanOrEqual(1.01); // one step, give or take the rounding of q · scale at int16
        expect(d.off / d.total, `${name} ${d.node}`).toBeLessThanOrEqual(2e-3);
      }
      // the learned constants: the studio's integers exactly (no arithmetic before their fake quant)
      for (const d of forced.filter((s) => ck.graph.nodes.find((n) => n.id === s.node)!.op === 'constant')) expect(d.off).toBe(0);
      qm.store.dispose();
      qm.dispose();
    }, 300_000);
  }

  it('vit_cls: train_qat.py (torchrun, 1 process) trains the class token, the position table and LayerNorm; import-torch brings them back', async () => {
    const { qm, ck, inputShape } = await calibrated('vit_cls', 'default_qat', 'nash-e');
    qm.store.dispose();
    qm.dispose();
    const dir = tempDir('torch-vit-qat');
    writePackage(buildTorchPackage(ck, 'pixel/255'), dir);
    const data = blobImages(16, inputShape, 10, 5);
    writeFileSync(join(dir, 'train.safetensors'), encodeSafetensors({
      x: { dtype: 'F32', shape: [data.count, ...inputShape], data: normalizeImages(data, 'pixel/255') },
      y: { dtype: 'I64', shape: [data.count], data: BigInt64Array.from(data.labels!, (l) => BigInt(l)) },
    }));
    const out = join(dir, 'qat-out');
    const log = run(PYTHON, [join(dir, 'torchrun_compat.py'), '--nproc_per_node', '1', '--master_port', '29551', join(dir, 'train_qat.py'),
      '--data', join(dir, 'train.safetensors'), '--steps', '3', '--batch-size', '8', '--lr', '1e-2', '--out', out], { cwd: dir, timeoutMs: 240_000 });
    expect(log).toMatch(/QAT step 3\/3: loss [\d.]+ \(1 processes/);

    const file = (f: string) => ({ name: f, bytes: new Uint8Array(readFileSync(join(out, f))) });
    const back = importTorchCheckpoint({ 'weights.safetensors': file('weights.safetensors'), 'qparams.json': file('qparams.json'), 'studio-graph.json': file('studio-graph.json') });
    expect(back.weightScaleMismatches).toBe(0);
    const c = back.checkpoint;
    const moved = (param: string) => Array.from(c.params[param]).reduce((m, v, i) => Math.max(m, Math.abs(v - ck.params[param][i])), 0);
    const consts = ck.graph.nodes.filter((n) => n.op === 'constant');
    const ln = ck.graph.nodes.find((n) => n.op === 'layernorm')!;
    const params = [...consts.map((n) => n.params.value), ln.params.weight, ln.params.bias];
    const moves = params.map((p) => [p, moved(p)] as const);
    console.log(`vit_cls after 3 QAT steps in PyTorch: max change ${moves.map(([p, m]) => `${p} ${m.toExponential(2)}`).join(', ')}`);
    for (const [p, m] of moves) expect(m, p).toBeGreaterThan(1e-6);
    // the constants' own activation sites came back (PyTorch's moving average moved them in train mode)
    for (const n of consts) expect(c.qsites[`qsite:${n.id}:qparams`], n.id).toBeDefined();

    // the imported checkpoint in the studio vs PyTorch's checkpoint.pt, fake quant, on held-out images
    const test = blobImages(24, inputShape, 10, 9);
    const x = normalizeImages(test, 'pixel/255');
    const shape = [test.count, ...inputShape];
    const qmBack = buildQuantized(createCpuBackend(), c.graph, c.params, c.qconfig, c.qsites);
    const want = await studioOutputs(qmBack, x, shape);
    const got = torchOutputs(dir, x, shape, join(out, 'checkpoint.pt'));
    const e = perSampleErrors(got, want, test.count);
    console.log(`vit_cls imported QAT result vs PyTorch checkpoint.pt: ${(100 * e.within1e5).toFixed(1)} % of ${test.count} images within 1e-5 ` +
      `(median ${e.median.toExponential(2)}, max ${e.max.toExponential(2)}), top-1 ${top1Agreement(got, want, test.count).toFixed(1)} %`);
    expect(e.median).toBeLessThan(1e-6);
    expect(e.within1e5).toBeGreaterThanOrEqual(0.8);
    qmBack.store.dispose();
    qmBack.dispose();
  }, 300_000);
});
