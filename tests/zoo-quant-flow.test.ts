/**
 * The two cheapest models of torchvision's zoo through the whole quantized flow (scripts/zoo-quant.ts, the code
 * paths of the CLI stages): SqueezeNet 1.1 (ceil_mode max pools, fire-module concats) and ShuffleNetV2 x0.5 (channel
 * shuffle, split, concat of several scales). Each is fine-tuned briefly in PyTorch at export (scripts/zoo_finetune.py:
 * with random weights most zoo models compute the same output for every input, so top-1 would say nothing), then
 * calibrated (default_calibration: MSE), given a few QAT steps, converted and run in the integer simulator, and its
 * QDQ export run in onnxruntime-node. Asserted, on few images: every integer layer, fed the fake-quant model's
 * integer inputs, gives the fake-quant model's integers (the fake-quant forward computes the simulator's integers
 * for int8 conv, concat, add, mul and global average pooling: docs/fixed-point.md §2e; below one LSB: the int32
 * logits, compared as floats); hence the end-to-end top-1 agreement simulator vs fake-quant model >= 99 % (issue 10's
 * target); the QDQ export in onnxruntime (optimizations off) >= 95 % with the simulator and with the fake-quant model
 * (onnxruntime sums a conv in float32 and rounds its near-ties half to even: docs/zoo.md). scripts/zoo-quant-report.ts
 * measures all eleven.
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
        // every requantizing layer exact (0 LSB); the int32 logits of the last linear within a fraction of an LSB
        expect(c.maxLsb, c.maxLsbLayer).toBeLessThan(1);
        expect(Object.keys(c.layerLsb).length).toBeGreaterThan(15);
        // measured: 100 / 100 % on both (ShuffleNetV2 98 / 96 % before the exact forward, 66 / 64 % with float biases)
        expect(c.agreement).toBeGreaterThanOrEqual(99);
      }
      // measured: SqueezeNet 100 %, ShuffleNetV2 96 % with both (the fake-quant model now computes the simulator's
      // integers; before, the QDQ export agreed 100 % with the float fake quant). The export's concats and adds are the
      // simulator's integers; ShuffleNetV2's two images apart come from one depthwise conv's float32 sum near a rounding
      // tie (0.026 % of its values 1 LSB, amplified downstream: docs/zoo.md "Concat in integers too")
      expect(r.qdqVsFakeQuant).toBeGreaterThanOrEqual(95);
      expect(r.qdqUnfused).toBeGreaterThanOrEqual(95);
      // onnxruntime's fused integer kernels round differently from the simulator (tests/onnx-qdq.test.ts)
      expect(r.qdqFused).toBeGreaterThanOrEqual(90);
    }, 300_000);
  }
});
