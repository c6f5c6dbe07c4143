/**
 * Deep checks of a saved data set (IndexedDB or a project file) before it is put back in the studio:
 * a project saved by an older version, or damaged storage, must not bring back a data set the panels
 * cannot show (an image of 0 rows blanked the page once, on every reload). Throws an Error whose
 * message says what is wrong, in the user's terms.
 */
import { validateDataset, type ImageDataset, type TrainTestData } from '../../data/dataset.ts';
import type { DataSummary } from '../../data/summary.ts';

const posInt = (x: unknown): x is number => Number.isInteger(x) && (x as number) > 0;

function checkSplit(ds: ImageDataset | undefined, which: string, shape: number[]): void {
  if (!ds || typeof ds !== 'object' || !(ds.images instanceof Uint8Array) || !(ds.labels instanceof Uint8Array || ds.labels === null) || !Array.isArray(ds.classNames)) {
    throw new Error(`its ${which} split is missing or damaged`);
  }
  if (![ds.channels, ds.height, ds.width].every(posInt)) throw new Error(`its ${which} images are ${ds.channels}x${ds.height}x${ds.width}: every dimension must be at least 1`);
  if (ds.channels !== shape[0] || ds.height !== shape[1] || ds.width !== shape[2]) {
    throw new Error(`its ${which} images are ${ds.channels}x${ds.height}x${ds.width} but its summary says ${shape.join('x')}`);
  }
  try {
    validateDataset(ds);
  } catch (e) {
    throw new Error(`its ${which} split is inconsistent (${(e as Error).message.replace(/^dataset [^:]*: /, '')})`);
  }
}

/** Checks a saved {summary, dataset}; the dataset is null for the built-in set. */
export function checkSavedData(d: { summary: DataSummary; dataset: TrainTestData | null } | null | undefined): void {
  if (d == null) return;
  const s = d.summary;
  if (!s || typeof s !== 'object' || !Array.isArray(s.shape) || s.shape.length !== 3) throw new Error('its description is missing or damaged');
  if (!s.shape.every(posInt)) throw new Error(`its images are ${String(s.shape).replace(/,/g, 'x')}: every dimension must be at least 1`);
  if (s.shape[0] !== 1 && s.shape[0] !== 3) throw new Error(`its images have ${s.shape[0]} channels; 1 or 3 are supported`);
  // A set without labels (summary.labelled false) has no classes; any other needs its class names.
  if (!Array.isArray(s.classNames) || (s.classNames.length === 0 && s.labelled !== false)) throw new Error('it has no class names');
  const p = s.preview;
  if (!p || !(p.images instanceof Uint8Array) || !Array.isArray(p.labels) || !Number.isInteger(p.count) || p.count < 0 ||
    p.images.length < p.count * s.shape[0] * s.shape[1] * s.shape[2] || p.labels.length < p.count) {
    throw new Error('its preview images are damaged');
  }
  if (!Array.isArray(s.trainClassCounts) || !Array.isArray(s.testClassCounts) || !s.stats || !Array.isArray(s.stats.mean)) {
    throw new Error('its class counts or statistics are damaged');
  }
  if (d.dataset === null) {
    if (s.kind !== 'builtin') throw new Error('its images are missing');
    return;
  }
  if (!d.dataset || typeof d.dataset !== 'object') throw new Error('its images are missing');
  checkSplit(d.dataset.train, 'train', s.shape);
  checkSplit(d.dataset.test, 'test', s.shape);
  if (d.dataset.train.count === 0) throw new Error('it has no training images');
}
