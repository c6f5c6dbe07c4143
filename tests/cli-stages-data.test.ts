/**
 * The CLI stages on the file data sources: the process exits 1 with the offending file named (2 with the usage for a
 * bad --data), a zoo model is built for the data's shape, a checkpoint made on one data shape is refused on another,
 * and the Horizon example's flow (float -> calib -> qat -> int_infer -> compile) runs on mobilenetv2 with
 * cifar10:DIR (CIFAR-format batches of real Fashion-MNIST images, scripts/fashion-as-cifar10.ts; a tiny run).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../src/io/checkpoint.ts';
import { runFloat } from '../src/cli/stages/float.ts';
import { runCalib } from '../src/cli/stages/calib.ts';
import { runPipeline } from '../src/cli/stages/pipeline.ts';
import { writeFashionAsCifar10 } from '../scripts/fashion-as-cifar10.ts';

const run = promisify(execFile);
let root: string;
let cifar: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'qs-cli-stages-'));
  cifar = join(root, 'cifar');
  // 8 training images (one step of 8 per training stage: a mobilenetv2 step is seconds on llvmpipe), 16 test images
  await writeFashionAsCifar10(cifar, 8, 16);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The CLI as a user runs it (npm run cli); resolves with the exit code and output. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', '--import', './scripts/wgsl-hooks.mjs', 'src/cli/main.ts', ...args], { timeout: 100_000 });
    return { code: 0, ...r };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe('the CLI process on file data sources', () => {
  it('exits 1 naming the file that cannot be read, 2 with the usage for an unknown --data', async () => {
    const bad = join(root, 'bad.zip');
    await writeFile(bad, 'not a zip');
    const a = await cli(['float', '--data', `zip:${bad}`, '--backend', 'cpu', '--model-path', join(root, 'r0')]);
    expect(a.code).toBe(1);
    expect(a.stderr).toContain(`error: ${bad}: is not a zip archive (no "PK" signature at the start)`);
    const b = await cli(['float', '--data', 'cifar-10', '--backend', 'cpu']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--data must be fashion-mnist|idx:DIR|cifar10:DIR|folder:DIR|zip:FILE, got "cifar-10"');
    expect(b.stderr).toContain('usage: npm run cli');
  }, 200_000);
});

describe('stages and data shapes', () => {
  it('builds the zoo model for 3x32x32 data, records it, and refuses the checkpoint on 1x28x28 data', async () => {
    const dir = join(root, 'shape');
    await runFloat(['--model', 'cnn-small', '--data', `cifar10:${cifar}`, '--epochs', '0', '--backend', 'cpu', '--model-path', dir]);
    const ck = decodeCheckpoint(new Uint8Array(await readFile(join(dir, 'float-checkpoint'))), 'float-checkpoint');
    expect(ck.meta).toMatchObject({ inputShape: [3, 32, 32], numClasses: 10, data: cifar });
    expect(ck.shapes['block1.conv.weight']).toEqual([24, 3, 3, 3]);
    await expect(runCalib(['--data', 'fashion-mnist', '--test-subset', '10', '--backend', 'cpu', '--model-path', dir])).rejects.toThrow(
      `${join(dir, 'float-checkpoint')} was trained on 3x32x32 images of 10 classes (${cifar}), but the data (fashion-mnist`);
  }, 200_000);

  it('calibrates an imported model as its first stage into a folder that does not exist yet', async () => {
    const dir = join(root, 'new', 'nested', 'calib-first');
    await runCalib(['--onnx', 'tests/fixtures/onnx/fashion_cnn.onnx', '--data', 'fashion-mnist', '--test-subset', '16',
      '--calib-images', '16', '--backend', 'cpu', '--model-path', dir]);
    const ck = await readFile(join(dir, 'calib-checkpoint'));
    expect(ck.length).toBeGreaterThan(1000);
    expect(JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')).calib.test_images).toBe(16);
  }, 200_000);

  it('runs the Horizon example flow float -> calib -> qat -> int_infer -> compile on mobilenetv2 with cifar10:DIR', async () => {
    const dir = join(root, 'mnv2');
    await runPipeline(['--model', 'mobilenetv2', '--data', `cifar10:${cifar}`, '--epochs', '1', '--batch-size', '8', '--lr', '0.01',
      '--calib-images', '8', '--backend', 'webgpu', '--model-path', dir]);
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
    expect(report.float).toMatchObject({ model: 'mobilenetv2', train_images: 8, test_images: 16, epochs: 1 });
    expect(report.calib).toMatchObject({ model: 'mobilenetv2', test_images: 16 });
    expect(report.qat).toMatchObject({ epochs: 1, train_images: 8, test_images: 16 });
    expect(report.int.test_images).toBe(16);
    // Simulator vs fake-quant model on 16 images of a barely trained model: most top-1 answers agree (one
    // disagreement is 6.25 points); every layer is reported.
    expect(report.int.agreement_top1).toBeGreaterThanOrEqual(75);
    expect(report.int.layers.length).toBeGreaterThan(50);
    expect(report.compile.march).toBeDefined();
    expect((await readFile(join(dir, 'model.qsbin'))).length).toBeGreaterThan(2_000_000); // 2.2 M int8 weights
  }, 900_000);
});
