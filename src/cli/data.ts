/** Loads the data set a stage names: the built-in Fashion-MNIST or an IDX folder, then subsets. */
import { randomSubset, type TrainTestData } from '../data/dataset.ts';
import { loadFashionMnist } from '../data/fashion-mnist.ts';
import { loadIdxFolder } from '../data/idx.ts';
import { UsageError } from './options.ts';

export async function loadStageData(spec: string, subset: number | null, testSubset: number | null): Promise<TrainTestData> {
  let d: TrainTestData;
  if (spec === 'fashion-mnist') d = await loadFashionMnist();
  else if (spec.startsWith('idx:')) d = await loadIdxFolder(spec.slice(4));
  else throw new UsageError(`--data must be fashion-mnist or idx:DIR, got "${spec}"`);
  // --subset N: the first N images of a fixed seed-0 permutation of the training set.
  const train = subset !== null && subset < d.train.count ? randomSubset(d.train, subset, 0) : d.train;
  // --test-subset N: likewise (the built-in test split is stored class by class, so a plain prefix would be one class).
  const test = testSubset !== null && testSubset < d.test.count ? randomSubset(d.test, testSubset, 0) : d.test;
  return { ...d, train, test };
}
