/**
 * Hostile input in Chromium, through the page's own file inputs: a representative sample of the
 * fuzzing suite's generated files (tests/helpers/hostile-files.ts) — IDX of 0 rows, zip bombs and
 * traversal names, a bad CRC, encrypted entries, PNG/JPEG headers claiming 10000x10000, a truncated
 * JPEG, PNG data the browser cannot decode, a bad CIFAR-10 batch, an ONNX model with two initializers
 * of one name — each refused with the file and the reason while the previous data (and model) stay
 * loaded and the studio stays usable. And a poisoned saved project (IndexedDB) opens the safe start.
 */
import { expect, test, type Page } from '@playwright/test';
import { decodeModelProto, encodeModelProto } from '../src/io/onnx/proto.ts';
import { cifarCases, idxCases, jpegCases, pngCases, zipCases, type HostileCase } from '../tests/helpers/hostile-files.ts';
import { buildZip } from '../tests/helpers/zip-writer.ts';
import { classImages, zipOf } from './helpers/files.ts';
import { openStudio, waitSaved } from './helpers/studio.ts';

const pick = (cases: HostileCase[], id: string) => {
  const c = cases.find((x) => x.id === id);
  if (!c) throw new Error(`no hostile case "${id}"`);
  return c;
};
/** An image-folder case as a zip (the file input gives no folders): the error names the archive and the entry. */
const asZip = (c: HostileCase, name: string) => ({ ...c, files: [{ path: name, bytes: buildZip(c.files.map((f) => ({ name: f.path, data: f.bytes }))) }] });

async function dropThroughInput(page: Page, c: HostileCase): Promise<void> {
  await page.getByTestId('data-file-input').setInputFiles(c.files.map((f) => ({ name: f.path, mimeType: 'application/octet-stream', buffer: Buffer.from(f.bytes) })));
}

test('hostile data files are refused with the file and the reason; the previous data stays and the studio stays usable', async ({ page }) => {
  const errors = await openStudio(page);
  // The previous data: a dropped zip of class folders.
  await page.getByTestId('data-file-input').setInputFiles({ name: 'shapes.zip', mimeType: 'application/zip', buffer: zipOf(classImages(['bar', 'dot'], 6)) });
  await expect(page.getByTestId('data-name')).toHaveText('shapes.zip');
  await expect(page.getByTestId('data-status')).toHaveAttribute('data-status', 'ready');

  const zips = zipCases();
  const samples: [HostileCase, RegExp, string][] = [
    [pick(idxCases(), 'IDX images of 0 rows (64 x 0 x 28, body consistent)'), /^train-images-idx3-ubyte$/, 'dimension 2 of [64, 0, 28] is 0'],
    [pick(idxCases(), 'gzip bomb: IDX header claims 2 GiB'), /^train-images-idx3-ubyte\.gz$/, 'over the limit of 1 GiB'],
    [pick(zips, 'entry name with ..'), /^hostile\.zip$/, 'has ".." in its path'],
    [pick(zips, 'zip bomb: one 256 MiB entry'), /^hostile\.zip$/, 'claims 256 MiB when inflated, over the limit'],
    [pick(zips, 'zip bomb: 250 overlapping 1 MiB entries'), /^hostile\.zip$/, 'overlap'],
    [pick(zips, 'zip bomb that lies: claims 1000 bytes, inflates to 256 MiB'), /^hostile\.zip$/, 'inflates to more than the 1000 bytes its header claims'],
    [pick(zips, 'CRC-32 mismatch'), /^hostile\.zip$/, 'is damaged: its CRC-32 is'],
    [pick(zips, 'encrypted entry'), /^hostile\.zip$/, 'is encrypted'],
    [pick(zips, 'local header past the end of the file'), /^hostile\.zip$/, 'is past the end of the file'],
    [asZip(pick(pngCases(), 'PNG claiming 10000 x 10000'), 'png-huge.zip'), /^png-huge\.zip$/, 'entry "b/hostile.png": is a 10000x10000 PNG, over the limit of 4096x4096'],
    [asZip(pick(pngCases(), 'PNG with corrupt compressed data (intact chunks)'), 'png-corrupt.zip'), /^png-corrupt\.zip$/, 'entry "b/hostile.png": the PNG image data is corrupt'],
    [asZip(pick(pngCases(), 'PNG colour type 5'), 'png-colour.zip'), /^png-colour\.zip$/, 'PNG colour type 5'],
    [asZip(pick(jpegCases(), 'JPEG claiming 10000 x 10000'), 'jpeg-huge.zip'), /^jpeg-huge\.zip$/, 'is a 10000x10000 JPEG, over the limit'],
    [asZip(pick(jpegCases(), 'JPEG truncated in its data (no EOI)'), 'jpeg-cut.zip'), /^jpeg-cut\.zip$/, 'no end-of-image (EOI) marker'],
    [pick(cifarCases(), 'label 10'), /^data_batch_1\.bin$/, 'record 3 of 3 has label 10'],
  ];
  for (const [c, file, text] of samples) {
    const t0 = Date.now();
    await dropThroughInput(page, c);
    await expect(page.getByTestId('data-error'), c.id).toBeVisible();
    await expect(page.getByTestId('data-status')).toHaveAttribute('data-status', 'ready');
    await expect(page.getByTestId('data-error'), c.id).toHaveAttribute('data-file', file);
    await expect(page.getByTestId('data-error'), c.id).toContainText(text);
    await expect(page.getByTestId('data-error')).not.toContainText('could not be decoded');
    expect(Date.now() - t0, `${c.id} took too long`).toBeLessThan(15_000);
    // The previous data stays loaded, previews and all.
    await expect(page.getByTestId('data-name')).toHaveText('shapes.zip');
    await expect(page.getByTestId('data-preview')).toHaveAttribute('data-count', '10');
    await page.getByTestId('data-error').getByRole('button', { name: 'Dismiss' }).click();
  }

  // An ONNX model with two initializers of one name: refused, the zoo model stays.
  const fixture = await import('node:fs').then((fs) => fs.readFileSync(new URL('../tests/fixtures/onnx/fashion_cnn.onnx', import.meta.url)));
  const m = decodeModelProto(new Uint8Array(fixture));
  m.graph!.initializer!.push({ ...m.graph!.initializer![0] });
  await page.getByTestId('model-onnx-input').setInputFiles({ name: 'twice.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(encodeModelProto(m)) });
  await expect(page.getByTestId('model-error')).toHaveAttribute('data-file', 'twice.onnx');
  await expect(page.getByTestId('model-error')).toContainText('initializer names must be unique');
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-kind', 'zoo');

  // Still usable: no panel failed, no page error, and new data loads.
  await expect(page.getByTestId('panel-failed')).toHaveCount(0);
  await page.getByTestId('data-builtin').click();
  await expect(page.getByTestId('data-name')).toHaveText('fashion-mnist (built-in)');
  await page.getByTestId('model-select').selectOption('mlp');
  await expect(page.getByTestId('model-select')).toHaveValue('mlp');
  expect(errors).toEqual([]);
});

test('a poisoned saved project (a data set of 0-row images) opens the safe start, which can discard it', async ({ page }) => {
  await openStudio(page);
  await page.getByTestId('model-select').selectOption('mlp');
  const since = Date.now() - 1;
  await page.getByTestId('data-file-input').setInputFiles({ name: 'shapes.zip', mimeType: 'application/zip', buffer: zipOf(classImages(['bar', 'dot'], 6)) });
  await expect(page.getByTestId('data-name')).toHaveText('shapes.zip');
  await waitSaved(page, since);
  // Poison it the way an older version saved the 0-row IDX set: images of 1 x 0 x 28. (The save that waitSaved saw
  // may be the model change's, before the dropped data: wait for a saved project that holds the data set.)
  await page.evaluate(() => new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    const attempt = () => {
      const open = indexedDB.open('quant-studio', 1);
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const db = open.result;
        const tx = db.transaction('kv', 'readwrite');
        const kv = tx.objectStore('kv');
        let again = false;
        const get = kv.get('project');
        get.onsuccess = () => {
          const p = get.result;
          if (!p?.data?.dataset) { again = true; return; }
          p.data.summary.shape = [1, 0, 28];
          p.data.summary.name = 'zero-rows';
          for (const s of [p.data.dataset.train, p.data.dataset.test]) { s.height = 0; s.width = 28; s.images = new Uint8Array(0); }
          kv.put(p, 'project');
        };
        tx.oncomplete = () => {
          db.close();
          if (!again) resolve();
          else if (Date.now() > deadline) reject(new Error('the saved project never held the dropped data set'));
          else setTimeout(attempt, 200);
        };
        tx.onerror = () => reject(tx.error);
        // an exception in a handler aborts the transaction: fail with it instead of waiting forever
        tx.onabort = () => reject(tx.error ?? new Error('the transaction was aborted'));
      };
    };
    attempt();
  }));
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Quant Studio' })).toBeVisible();
  await expect(page.getByTestId('safe-start')).toBeVisible();
  await expect(page.getByTestId('safe-start-part').first()).toContainText('the data set "zero-rows"');
  await expect(page.getByTestId('safe-start-part').first()).toContainText('1x0x28');
  // The rest of the project is back; the data is the built-in set; the studio works.
  await expect(page.getByTestId('model-select')).toHaveValue('mlp');
  await expect(page.getByTestId('data-name')).toHaveText('fashion-mnist (built-in)');
  await expect(page.getByTestId('panel-failed')).toHaveCount(0);
  // Reloading again still offers the safe start (nothing was saved over the project)...
  await page.reload();
  await expect(page.getByTestId('safe-start')).toBeVisible();
  // ...until it is discarded; then the next start is a normal one.
  const before = Date.now() - 1;
  await page.getByTestId('safe-start-discard').click();
  await expect(page.getByTestId('safe-start')).toHaveCount(0);
  await waitSaved(page, before);
  await page.reload();
  await expect(page.getByTestId('project-status')).toHaveAttribute('data-status', 'ready');
  await expect(page.getByTestId('safe-start')).toHaveCount(0);
  await expect(page.getByTestId('model-select')).toHaveValue('mlp');
  expect(errors).toEqual([]);
});

test("one panel's exception shows in that panel; the rest of the studio keeps working", async ({ page }) => {
  const errors = await openStudio(page);
  // Fault injection through the debugging handle: a data summary without statistics makes the Data panel throw.
  await page.evaluate(() => {
    const { store } = (window as unknown as { __studio: { store: { getState(): { data: { summary: object } }; setState(p: object): void } } }).__studio;
    const data = store.getState().data;
    (window as unknown as { __saved: object }).__saved = data.summary;
    store.setState({ data: { ...data, summary: { ...data.summary, stats: null } } });
  });
  await expect(page.getByTestId('panel-failed')).toHaveCount(1);
  await expect(page.getByTestId('panel-failed')).toHaveAttribute('data-panel', 'The Data panel');
  await expect(page.getByRole('heading', { name: 'Quant Studio' })).toBeVisible();
  await page.getByTestId('model-select').selectOption('mlp');
  await expect(page.getByTestId('model-select')).toHaveValue('mlp');
  // Once the state is sound again, "Try again" brings the panel back.
  await page.evaluate(() => {
    const w = window as unknown as { __saved: object; __studio: { store: { getState(): { data: object }; setState(p: object): void } } };
    w.__studio.store.setState({ data: { ...w.__studio.store.getState().data, summary: w.__saved } });
  });
  await page.getByTestId('panel-failed').getByRole('button', { name: 'Try again' }).click();
  await expect(page.getByTestId('panel-failed')).toHaveCount(0);
  await expect(page.getByTestId('data-name')).toHaveText('fashion-mnist (built-in)');
  expect(errors).toEqual([]);
});
