/**
 * Loads the data set a stage names (--data), then subsets. The sources, one list (DATA_SOURCES): the built-in
 * Fashion-MNIST, IDX files, and what the page reads from dropped files (CIFAR-10 batches, class folders of images,
 * a .zip of them; data-sources.ts). A stage's data is decoded once per process (the pipeline's stages share it).
 */
import { randomSubset, withoutLabels, type TrainTestData } from '../data/dataset.ts';
import { loadFashionMnist } from '../data/fashion-mnist.ts';
import { loadIdxFolder } from '../data/idx.ts';
import { resizeDataset } from '../data/transform.ts';
import { loadFileSource } from './data-sources.ts';
import { UsageError } from './options.ts';

type Resize = [number, number] | null;

interface DataSource {
  /** The --data syntax, for the usage text. */
  syntax: string;
  load(arg: string, resize: Resize): Promise<TrainTestData>;
}

const resized = async (d: Promise<TrainTestData>, r: Resize): Promise<TrainTestData> => {
  const x = await d;
  return r ? { ...x, train: resizeDataset(x.train, r[0], r[1]), test: resizeDataset(x.test, r[0], r[1]) } : x;
};

/** Throttled progress on stderr while images are decoded. */
function decodeProgress(label: string): (done: number, total: number, stage: string) => void {
  let last = 0;
  return (done, total, stage) => {
    const now = Date.now();
    if (done !== total && now - last < 2000) return;
    last = now;
    process.stderr.write(`Data ${label}: ${stage}${total > 1 ? ` [${done}/${total}]` : ''}\n`);
  };
}

const fileSource = (kind: 'cifar10' | 'folder' | 'zip'): DataSource['load'] => (arg, resize) =>
  loadFileSource(kind, arg, { resize, onProgress: decodeProgress(arg) });

/** prefix (with the colon, or the whole name) -> source. */
export const DATA_SOURCES: Record<string, DataSource> = {
  'fashion-mnist': { syntax: 'fashion-mnist', load: (_a, r) => resized(loadFashionMnist(), r) },
  'idx:': { syntax: 'idx:DIR', load: (a, r) => resized(loadIdxFolder(a), r) },
  'cifar10:': { syntax: 'cifar10:DIR', load: fileSource('cifar10') },
  'folder:': { syntax: 'folder:DIR', load: fileSource('folder') },
  'zip:': { syntax: 'zip:FILE', load: fileSource('zip') },
};

export const DATA_SYNTAX = Object.values(DATA_SOURCES).map((s) => s.syntax).join('|');

const cache = new Map<string, Promise<TrainTestData>>();

/** The full data set of a --data spec (and --resize), before any subset. */
export function loadDataSpec(spec: string, resize: Resize = null): Promise<TrainTestData> {
  const prefix = Object.keys(DATA_SOURCES).find((p) => (p.endsWith(':') ? spec.startsWith(p) : spec === p));
  if (!prefix) throw new UsageError(`--data must be ${DATA_SYNTAX}, got "${spec}"`);
  const arg = prefix.endsWith(':') ? spec.slice(prefix.length) : '';
  if (prefix.endsWith(':') && !arg) throw new UsageError(`--data ${prefix} needs a path: ${DATA_SOURCES[prefix].syntax}`);
  const key = `${spec}|${resize?.join('x') ?? ''}`;
  let p = cache.get(key);
  if (!p) {
    p = DATA_SOURCES[prefix].load(arg, resize);
    cache.set(key, p);
    p.catch(() => cache.delete(key)); // a failed load is not remembered
  }
  return p;
}

/** `unlabelled` (--unlabelled): the images without their labels. */
export async function loadStageData(spec: string, subset: number | null, testSubset: number | null, resize: Resize = null,
  unlabelled = false): Promise<TrainTestData> {
  const loaded = await loadDataSpec(spec, resize);
  const d = unlabelled ? { ...loaded, train: withoutLabels(loaded.train), test: withoutLabels(loaded.test) } : loaded;
  // --subset N: the first N images of a fixed seed-0 permutation of the training set.
  const train = subset !== null && subset < d.train.count ? randomSubset(d.train, subset, 0) : d.train;
  // --test-subset N: likewise (the built-in test split is stored class by class, so a plain prefix would be one class).
  const test = testSubset !== null && testSubset < d.test.count ? randomSubset(d.test, testSubset, 0) : d.test;
  return { ...d, train, test };
}
