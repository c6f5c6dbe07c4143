/**
 * Drag-in and pickers with real files made in the setup: Debian's Fashion-MNIST IDX .gz files, a zip
 * of PNG class folders, CIFAR-10 binary batches (dropped); and bad inputs (a truncated IDX, random
 * bytes named .zip, an empty folder, an image of the wrong size), each showing an error that names
 * it while the previous data stays loaded. The training worker trains on the dropped data.
 */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { expect, test, type Page } from '@playwright/test';
import { cifarBatch, classImages, greyPng, zipOf } from './helpers/files.ts';
import { failOnError, openStudio, shoot } from './helpers/studio.ts';

const IDX_DIR = '/usr/share/datasets/fashion-mnist';
const IDX = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];

async function writeTree(root: string, files: Record<string, Buffer>): Promise<void> {
  for (const [p, b] of Object.entries(files)) {
    await mkdir(dirname(join(root, p)), { recursive: true });
    await writeFile(join(root, p), b);
  }
}

async function expectLoaded(page: Page, name: string): Promise<void> {
  await expect(page.getByTestId('data-status')).toHaveAttribute('data-status', 'ready');
  await expect(page.getByTestId('data-name')).toHaveText(name);
}

async function expectError(page: Page, file: RegExp, keep: string): Promise<void> {
  await expect(page.getByTestId('data-status')).toHaveAttribute('data-status', 'ready');
  await expect(page.getByTestId('data-error')).toBeVisible();
  await expect(page.getByTestId('data-error')).toHaveAttribute('data-file', file);
  await expect(page.getByTestId('data-name')).toHaveText(keep);
}

/** Drops files on the drop zone (a DataTransfer built in the page from the bytes). */
async function drop(page: Page, files: { name: string; bytes: Buffer }[]): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, b64: f.bytes.toString('base64') }));
  const dt = await page.evaluateHandle((fs) => {
    const d = new DataTransfer();
    for (const f of fs) d.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name));
    return d;
  }, payload);
  await page.getByTestId('data-dropzone').dispatchEvent('drop', { dataTransfer: dt });
}

test('drag-in of IDX, zip and CIFAR-10 data; bad inputs keep the current data', async ({ page }, testInfo) => {
  const errors = await openStudio(page);
  const dir = await mkdtemp(join(tmpdir(), 'qs-e2e-'));
  await expectLoaded(page, 'fashion-mnist (built-in)');
  const files = page.getByTestId('data-file-input');
  const folder = page.getByTestId('data-folder-input');

  // A truncated IDX set: the error names the file; the built-in data stays.
  const raw = gunzipSync(await readFile(join(IDX_DIR, IDX[2])));
  await writeFile(join(dir, 't10k-images-idx3-ubyte'), raw.subarray(0, 5000));
  await files.setInputFiles([...IDX.filter((f) => !f.startsWith('t10k-images')).map((f) => join(IDX_DIR, f)), join(dir, 't10k-images-idx3-ubyte')]);
  await expectError(page, /t10k-images-idx3-ubyte$/, 'fashion-mnist (built-in)');
  await expect(page.getByTestId('data-error')).toContainText('truncated');

  // Random bytes named .zip.
  await writeFile(join(dir, 'random.zip'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 17) % 251)));
  await files.setInputFiles(join(dir, 'random.zip'));
  await expectError(page, /random\.zip$/, 'fashion-mnist (built-in)');
  await expect(page.getByTestId('data-error')).toContainText('not a zip archive');

  // An empty folder.
  await mkdir(join(dir, 'empty'));
  await folder.setInputFiles(join(dir, 'empty'));
  await expect(page.getByTestId('data-error')).toContainText('empty');
  await expectLoaded(page, 'fashion-mnist (built-in)');

  // The real IDX .gz files: Debian's dataset-fashion-mnist folder, picked as a folder (its name says "fashion").
  await folder.setInputFiles(IDX_DIR);
  await expectLoaded(page, 'fashion-mnist');
  await expect(page.getByTestId('data-error')).toHaveCount(0);
  await expect(page.getByTestId('data-kind')).toHaveText('IDX files');
  await expect(page.getByTestId('data-counts')).toHaveText('60,000 / 10,000');
  await expect(page.getByTestId('class-counts')).toContainText('Ankle boot');

  // A folder of class folders with one image of the wrong size: named, the IDX data stays.
  await writeTree(join(dir, 'shapes'), { ...classImages(['bars', 'stripes'], 4), 'stripes/odd.png': greyPng(30, 30, () => 9) });
  await folder.setInputFiles(join(dir, 'shapes'));
  await expectError(page, /stripes\/odd\.png$/, 'fashion-mnist');
  await expect(page.getByTestId('data-error')).toContainText('30x30');

  // A zip of PNG class folders made here: 3 classes x 10 images, 80/20 split per class.
  await writeFile(join(dir, 'clothes.zip'), zipOf(classImages(['coat', 'shirt', 'shoe'], 10)));
  await files.setInputFiles(join(dir, 'clothes.zip'));
  await expectLoaded(page, 'clothes.zip');
  await expect(page.getByTestId('data-shape')).toHaveText('1 × 28 × 28');
  await expect(page.getByTestId('data-counts')).toHaveText('24 / 6');
  await expect(page.getByTestId('class-counts')).toHaveAttribute('data-classes', '3');
  await expect(page.getByTestId('data-split')).toContainText('80/20');
  await expect(page.getByTestId('data-preview')).toHaveAttribute('data-count', '24');

  // The training worker trains on the dropped data (24 train / 6 test images, 3 classes).
  await page.getByTestId('model-select').selectOption('mlp');
  for (const [k, v] of Object.entries({ trainImages: 256, testImages: 128, batchSize: 8, epochs: 1 })) await page.getByTestId(`setting-${k}`).fill(String(v));
  await page.getByTestId('train-button').click();
  await expect.poll(async () => { await failOnError(page, 'run-error', 'training'); return page.getByTestId('run-status').getAttribute('data-outcome'); }).toBe('done');
  await expect(page.getByTestId('progress-bar')).toHaveAttribute('data-total-steps', '3');
  await expect(page.getByRole('heading', { name: /Epoch results on 6 test images/ })).toBeVisible();
  await shoot(page, testInfo, 'panel-data', 'panel-data-zip');

  // CIFAR-10 binary batches, dropped on the drop zone.
  await drop(page, [{ name: 'data_batch_1.bin', bytes: cifarBatch(40) }, { name: 'test_batch.bin', bytes: cifarBatch(10, 3) }]);
  await expectLoaded(page, 'cifar10');
  await expect(page.getByTestId('data-shape')).toHaveText('3 × 32 × 32');
  await expect(page.getByTestId('data-counts')).toHaveText('40 / 10');
  await expect(page.getByTestId('data-kind')).toHaveText('CIFAR-10 binary');
  await expect(page.getByTestId('prep-yuv')).toBeEnabled();
  await page.getByTestId('prep-yuv').check();
  await expect(page.getByTestId('model-input')).toHaveText('3 × 32 × 32');
  // A bad batch keeps CIFAR loaded.
  await drop(page, [{ name: 'data_batch_2.bin', bytes: cifarBatch(3).subarray(0, 5000) }]);
  await expectError(page, /data_batch_2\.bin$/, 'cifar10');
  await shoot(page, testInfo, 'panel-data', 'panel-data-cifar');
  expect(errors).toEqual([]);
});
