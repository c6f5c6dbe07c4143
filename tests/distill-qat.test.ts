/**
 * Calibration and QAT without labels, through the CLI stages: an imported ONNX model (tests/fixtures/onnx/residual.onnx,
 * a conv-bn-relu residual net exported by PyTorch) on a folder of generated PNGs without class folders (unlabelled,
 * split 80/20). calib measures the output similarity to the float model on the held-out images; qat --distill trains
 * the fake-quant model against the float model and must raise the output SQNR above the calibration's. Both figures
 * are printed. Then the deployment check (int_infer) runs on the same unlabelled images.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCalib } from '../src/cli/stages/calib.ts';
import { runQat } from '../src/cli/stages/qat.ts';
import { runIntInfer } from '../src/cli/stages/int-infer.ts';
import { runFloat } from '../src/cli/stages/float.ts';
import { loadStageData } from '../src/cli/data.ts';
import { writeUnlabelledImages } from '../scripts/unlabelled-images.ts';

const ONNX = 'tests/fixtures/onnx/residual.onnx'; // input 3x16x16
let root: string;
let images: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'qs-distill-'));
  images = join(root, 'images');
  await writeUnlabelledImages(images, 60);
  await mkdir(join(root, 'run'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function report(dir: string): Promise<Record<string, Record<string, unknown>>> {
  return JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
}

interface Sim { output: string; shape: number[]; cosine: number; sqnr_db: number; images: number }

describe('a folder of images without class folders', () => {
  it('loads unlabelled, split 80/20 at random', async () => {
    const d = await loadStageData(`folder:${images}`, null, null);
    expect([d.train.labels, d.test.labels, d.train.numClasses, d.train.count, d.test.count]).toEqual([null, null, 0, 48, 12]);
    expect([d.train.channels, d.train.height, d.train.width]).toEqual([3, 16, 16]);
  });
});

describe('calibration and distillation QAT without labels (imported model)', () => {
  const common = () => ['--onnx', ONNX, '--data', `folder:${images}`, '--backend', 'cpu', '--batch-size', '8', '--model-path', join(root, 'run')];

  it('calib reports the output similarity; qat --distill raises the output SQNR above the calibration alone; int_infer checks', async () => {
    await runCalib([...common(), '--calib-images', '48', '--weight-bits', '4']);
    const calib = (await report(join(root, 'run'))).calib as { similarity: Sim[]; labelled: boolean; acc1: number | null };
    expect(calib.labelled).toBe(false);
    expect(calib.acc1).toBeNull(); // NaN in JSON: no accuracy without labels
    expect(calib.similarity).toHaveLength(1);
    const before = calib.similarity[0];
    expect(before.images).toBe(12);
    expect(before.cosine).toBeGreaterThan(0.5);
    expect(before.cosine).toBeLessThan(1);

    await runQat([...common(), '--distill', '--feature-weight', '0.5', '--epochs', '3', '--optimizer', 'adam', '--lr', '5e-4', '--schedule', 'constant', '--qconfig', 'default_qat_fixed_act']);
    const qat = (await report(join(root, 'run'))).qat as { similarity: Sim[]; similarity_before: Sim[]; distill: Record<string, unknown>; history: { loss: number }[] };
    expect(qat.distill).toEqual({ loss: 'mse', feature_weight: 0.5, with_labels: false });
    // The QAT stage measures the calibrated model again on the same images before training: the same figure.
    expect(qat.similarity_before[0].sqnr_db).toBeCloseTo(before.sqnr_db, 3);
    const after = qat.similarity[0];
    console.log(`residual.onnx, 60 unlabelled PNGs (48 train / 12 held out): output SQNR vs float after calibration ${before.sqnr_db.toFixed(2)} dB ` +
      `(cosine ${before.cosine.toFixed(5)}), after distillation QAT (3 epochs) ${after.sqnr_db.toFixed(2)} dB (cosine ${after.cosine.toFixed(5)}); ` +
      `losses per epoch ${qat.history.map((h) => h.loss.toPrecision(4)).join(', ')}`);
    expect(after.sqnr_db).toBeGreaterThan(before.sqnr_db);
    expect(after.cosine).toBeGreaterThan(before.cosine);

    await runIntInfer(common());
    const int = (await report(join(root, 'run'))).int as { acc1: number | null; agreement_top1: number; layers: { max_lsb: number }[]; test_images: number };
    expect(int.acc1).toBeNull();
    expect(int.test_images).toBe(12);
    expect(int.layers.length).toBeGreaterThan(0);
  }, 600_000);

  it('refuses what needs labels, by name', async () => {
    await expect(runQat([...common(), '--epochs', '1'])).rejects.toThrow(/QAT with cross-entropy needs labels, and the data has none: add --distill/);
    await expect(runFloat([...common(), '--epochs', '1'])).rejects.toThrow(/needs labelled data, but .* has no labels/);
    await expect(runQat([...common(), '--distill-loss', 'kl'])).rejects.toThrow('--distill-loss is an option of distillation QAT: add --distill');
    await expect(runQat([...common(), '--distill', '--distill-loss', 'l1'])).rejects.toThrow('--distill-loss must be mse|kl, got "l1"');
    await expect(runQat([...common(), '--distill', '--feature-weight=-1'])).rejects.toThrow('--feature-weight must be a number >= 0, got "-1"');
  }, 120_000);
});
