/**
 * Crafted hostile ONNX models through the page's import worker job (handleImport) and the CLI's model
 * loader (loadModelSource): each refused with the file and the reason, in time. (Seeded mutations of
 * real models are in onnx-fuzz.test.ts.)
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModelSource } from '../src/cli/model-source.ts';
import type { CommonOptions } from '../src/cli/options.ts';
import { OnnxImportError } from '../src/io/onnx/import.ts';
import { handleImport } from '../src/ui/features/model/onnx-import.worker.ts';
import { HANG_MS } from './helpers/fuzz-run.ts';
import { onnxCases } from './helpers/hostile-onnx.ts';
import { tinyModel, tinyValid } from './helpers/onnx.ts';

describe('ONNX: crafted hostile models', () => {
  it('the tiny valid model imports (the cases below differ from it in one thing)', () => {
    expect(handleImport({ id: 1, file: 'tiny.onnx', bytes: tinyModel(tinyValid()), options: {} }).type).toBe('done');
  });
  for (const c of onnxCases()) {
    it(`${c.id}: page and CLI`, async () => {
      const t0 = performance.now();
      const page = handleImport({ id: 1, file: 'hostile.onnx', bytes: c.bytes, options: {} });
      expect(page).toMatchObject({ type: 'failed', file: 'hostile.onnx' });
      if (page.type === 'failed') expect(page.message).toMatch(c.message);
      const dir = mkdtempSync(join(tmpdir(), 'qs-fuzz-onnx-'));
      writeFileSync(join(dir, 'hostile.onnx'), c.bytes);
      const cli = await loadModelSource({ onnx: join(dir, 'hostile.onnx'), preprocessing: null, model: 'cnn-small', seed: 0 } as unknown as CommonOptions, { inputShape: [1, 28, 28], numClasses: 10, source: 'fashion-mnist' })
        .then(() => null, (e: unknown) => e);
      expect(cli).toBeInstanceOf(OnnxImportError);
      expect((cli as Error).message).toMatch(/^hostile\.onnx: /);
      expect((cli as Error).message).toMatch(c.message);
      expect(performance.now() - t0).toBeLessThan(HANG_MS);
    });
  }
});
