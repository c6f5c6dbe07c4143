/**
 * The two cheapest models of torchvision's zoo through the whole quantized flow (scripts/zoo-quant.ts, the code
 * paths of the CLI stages): SqueezeNet 1.1 (ceil_mode max pools, fire-module concats) and ShuffleNetV2 x0.5 (channel
 * shuffle, split, concat of several scales). Each is fine-tuned briefly in PyTorch at export (scripts/zoo_finetune.py:
 * with random weights most zoo models compute the same output for every input, so top-1 would say nothing), then
 * calibrated (default_calibration: MSE), given a few QAT steps, converted and run in the integer simulator, and its
 * QDQ export run in onnxruntime-node. Asserted, on few images: every integer layer, fed the fake-quant model's
 * integer inputs, within 2 LSB of it (calibrated and QAT model); the end-to-end top-1 agreement simulator vs fake-quant
 * model (both add the same int32 biases) >= 95 %; the QDQ export in onnxruntime (optimizations off) >= 99 % with the
 * fake-quant model and >= 95 % with the simulator. Below issue 10's 99 % against the simulator for one reason
 * (docs/zoo.md, scripts/zoo-drift.ts): near-ties of the requantization, where the scales of a concat's input and
 * output are a ratio of MSE's clip factors (0.98 / 0.96 = 49/48: q = 24 gives 24.5000006 with the float32 scales):
 * float32 arithmetic (the fake quant, onnxruntime) lands on 24.5 and rounds to even, the simulator's 32-bit multiplier
 * sees the value above the tie. scripts/zoo-quant-report.ts measures all eleven.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import type { LabelledDataset } from '../src/data/dataset.ts';
import { ensureZooFinetuned, zooFinetunedFile } from '../scripts/zoo-models.ts';
import { fashionAsCifar, quantFlow } from '../scripts/zoo-quant.ts';

const MODELS = ['squeezenet1_1', 'shufflenet_v2_x0_5'];
const FINETUNE_STEPS = 20;

let dir = '';
let data: { train: LabelledDataset; test: LabelledDataset };
beforeAll(async () => {
  dir = ensureZooFinetuned(MODELS, FINETUNE_STEPS);
  data = await fashionAsCifar(32, 50);
}, 600_000);

describe('zoo models through calibrate → QAT → convert → simulator → QDQ export', () => {
  for (const name of MODELS) {
    it(name, async () => {
      const be = createCpuBackend();
      const r = await quantFlow(be, name, new Uint8Array(readFileSync(zooFinetunedFile(dir, name))), data, { calibImages: 16, qatSteps: 2, batchSize: 8, layerImages: 2 });
      be.dispose();
      console.log(`${name}: float acc ${r.floatAcc} (top class ${r.floatTopClassShare} %), calib ${r.calib.acc1}, QAT ${r.qat.acc1}; ` +
        `sim vs fake quant ${r.calib.agreement} / ${r.qat.agreement} %, max LSB ${r.calib.maxLsb} (${r.calib.maxLsbLayer}) / ${r.qat.maxLsb} (${r.qat.maxLsbLayer}); ` +
        `QDQ vs sim ${r.qdqUnfused} % (fused ${r.qdqFused} %), QDQ vs fake quant ${r.qdqVsFakeQuant} %; ${r.seconds.toFixed(1)} s`);
      // the fine-tuned model's prediction depends on its input (not one class for every image; SqueezeNet ends in a
      // ReLU, and after a brief fine-tune many images give all-zero logits, a tie that argmax reads as class 0)
      expect(r.floatTopClassShare).toBeLessThan(95);
      for (const c of [r.calib, r.qat]) {
        expect(c.maxLsb, c.maxLsbLayer).toBeLessThanOrEqual(2);
        expect(Object.keys(c.layerLsb).length).toBeGreaterThan(15);
        // measured: SqueezeNet 100 / 100 %, ShuffleNetV2 98 / 96 % (66 / 64 % with float biases in the fake-quant model)
        expect(c.agreement).toBeGreaterThanOrEqual(95);
      }
      // measured: 100 % (both in float32), vs the simulator SqueezeNet 100 %, ShuffleNetV2 96 % (near-ties, above)
      expect(r.qdqVsFakeQuant).toBeGreaterThanOrEqual(99);
      expect(r.qdqUnfused).toBeGreaterThanOrEqual(95);
      // onnxruntime's fused integer kernels round differently from the simulator (tests/onnx-qdq.test.ts)
      expect(r.qdqFused).toBeGreaterThanOrEqual(90);
    }, 300_000);
  }
});
