/**
 * The safe start: a saved project that cannot be restored (a data set of 0-row images as an older
 * version saved it, an unknown format, unreadable storage) opens the studio anyway, names what was
 * left out, saves nothing over it until the user discards it, and never restores results without
 * the data they were computed on.
 */
import { describe, expect, it } from 'vitest';
import type { ImageDataset } from '../src/data/dataset.ts';
import { summarize } from '../src/data/summary.ts';
import type { TrainingClient } from '../src/train/client.ts';
import type { DataController } from '../src/ui/features/data/data-controller.ts';
import { createProjectController } from '../src/ui/features/project/project-controller.ts';
import { checkSavedData } from '../src/ui/persist/saved-data.ts';
import { snapshotOf } from '../src/ui/persist/snapshot.ts';
import { createStudioStore } from '../src/ui/store/studio-store.ts';

const dataset = (n: number, h: number, w: number, name: string): ImageDataset => ({
  name, images: new Uint8Array(n * h * w).map((_, i) => i & 255), labels: new Uint8Array(n).map((_, i) => i % 2), count: n,
  channels: 1, height: h, width: w, numClasses: 2, classNames: ['a', 'b'],
});

/** A saved project as an older version wrote it: the model, a dropped data set of the given shape, and results. */
function savedProject(h: number, w: number) {
  const old = createStudioStore();
  const st = old.getState();
  st.setModel('resnet-mini');
  st.setSetting('trainImages', 300);
  const data = { train: dataset(64, h, w, 'zero/train'), test: dataset(8, h, w, 'zero/test'), source: 'zero' };
  st.dataLoaded(summarize(data, 'idx', 'split', 'zero-rows'), data);
  st.setCheckpoint('float', new Uint8Array([1, 2, 3]));
  return snapshotOf(old.getState());
}

function harness(saved: Map<string, unknown>, failGet = false) {
  const store = createStudioStore();
  const restored: unknown[] = [];
  const client = { restore: (...a: unknown[]) => restored.push(a), job: null } as unknown as TrainingClient;
  let builtin = 0;
  const data = {
    loadBuiltin: () => {
      builtin++;
      store.getState().dataLoaded(summarize({ train: dataset(4, 2, 2, 'b/train'), test: dataset(2, 2, 2, 'b/test'), source: 'b' }, 'builtin', 's', 'fashion-mnist (built-in)'), null);
    },
  } as unknown as DataController;
  const puts: unknown[] = [];
  const ctl = createProjectController(store, client, data, {
    get: async (k) => { if (failGet) throw new Error('QuotaExceededError'); return saved.get(k); },
    put: async (k, v) => { puts.push(v); saved.set(k, v); },
  }, 1);
  return { store, ctl, restored, puts, builtin: () => builtin };
}

describe('safe start', () => {
  it('a saved data set of 0-row images is left out with its results; the rest is restored; nothing is saved until discarded', async () => {
    const saved = new Map<string, unknown>([['project', savedProject(0, 28)]]);
    const h = harness(saved);
    await h.ctl.start();
    const s = h.store.getState();
    expect(s.project.status).toBe('ready');
    expect(s.modelName).toBe('resnet-mini');
    expect(s.settings.trainImages).toBe(300);
    expect(s.data.summary?.name).toBe('fashion-mnist (built-in)');
    expect(h.builtin()).toBe(1);
    expect(s.checkpoints).toEqual({});
    expect(s.project.unrestored).toEqual([
      { part: 'the data set "zero-rows"', reason: 'its images are 1x0x28: every dimension must be at least 1' },
      { part: 'the checkpoints', reason: 'they were computed on that data set' },
    ]);
    // Changes while in the safe start do not overwrite the saved project...
    h.store.getState().setModel('mlp');
    await new Promise((r) => setTimeout(r, 30));
    expect(h.puts).toEqual([]);
    // ...until the user discards what could not be restored.
    h.ctl.discardUnrestored();
    await new Promise((r) => setTimeout(r, 30));
    expect(h.store.getState().project.unrestored).toBeNull();
    expect(saved.get('project')).toMatchObject({ modelName: 'mlp', data: null, checkpoints: {} });
    h.ctl.dispose();
  });

  it('an unknown project format and unreadable storage start the studio on the built-in data', async () => {
    const a = harness(new Map([['project', { version: 99, modelName: 'cnn-small' }]]));
    await a.ctl.start();
    expect(a.store.getState().project.unrestored).toEqual([{ part: 'the saved project', reason: 'unsupported project version 99' }]);
    expect([a.builtin(), a.store.getState().project.status]).toEqual([1, 'ready']);
    const b = harness(new Map(), true);
    await b.ctl.start();
    expect(b.store.getState().project.unrestored?.[0].reason).toMatch(/could not be read from this browser's storage \(QuotaExceededError\)/);
    expect(b.builtin()).toBe(1);
  });

  it('a valid saved project restores with no safe start', async () => {
    const h = harness(new Map([['project', savedProject(4, 4)]]));
    await h.ctl.start();
    expect(h.store.getState().project.unrestored).toBeNull();
    expect(h.store.getState().data.summary?.name).toBe('zero-rows');
    expect(h.builtin()).toBe(0);
    expect(h.restored.length).toBe(1);
  });

  it('checkSavedData names damaged parts', () => {
    const snap = savedProject(4, 4);
    const d = snap.data!;
    expect(() => checkSavedData(d)).not.toThrow();
    expect(() => checkSavedData({ ...d, summary: { ...d.summary, preview: { ...d.summary.preview, images: new Uint8Array(3) } } })).toThrow('its preview images are damaged');
    expect(() => checkSavedData({ ...d, dataset: { ...d.dataset!, test: { ...d.dataset!.test, images: new Uint8Array(5) } } }))
      .toThrow(/its test split is inconsistent \(images has 5 bytes, expected 128\)/);
    expect(() => checkSavedData({ ...d, dataset: { ...d.dataset!, train: { ...d.dataset!.train, width: 5 } } })).toThrow(/train images are 1x4x5 but its summary says 1x4x4/);
  });
});

describe('hostile project files', () => {
  it('a project file that is a zip bomb or holds a damaged data set is refused, naming the file', async () => {
    const { decodeProjectFile } = await import('../src/ui/persist/project-file.ts');
    const { buildZip } = await import('./helpers/zip-writer.ts');
    const { deflatedZeros } = await import('./helpers/hostile-files.ts');
    const bomb = buildZip([{ name: 'project.json', stored: deflatedZeros(256 << 20), size: 1000, crc: 0 }]);
    expect(() => decodeProjectFile(bomb, 'bomb.qsproj')).toThrow('bomb.qsproj: not a Quant Studio project file (entry "project.json" inflates to more than the 1000 bytes its header claims');
    const evil = buildZip([{ name: '../project.json', data: new TextEncoder().encode('{}') }]);
    expect(() => decodeProjectFile(evil, 'evil.qsproj')).toThrow(/evil\.qsproj: not a Quant Studio project file \(entry "\.\.\/project\.json" has "\.\." in its path/);

    const { encodeProjectFile } = await import('../src/ui/persist/project-file.ts');
    const snap = savedProject(4, 4);
    for (const s of [snap.data!.dataset!.train, snap.data!.dataset!.test]) s.height = 0;
    const h = harness(new Map());
    await h.ctl.start();
    await expect(h.ctl.importBytes(encodeProjectFile(snap), 'zero.qsproj')).rejects.toThrow('zero.qsproj: its data set cannot be used: its train images are 1x0x4: every dimension must be at least 1');
    expect(h.store.getState().data.summary?.name).toBe('fashion-mnist (built-in)');
  });
});
