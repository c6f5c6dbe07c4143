/** Per-image results of a deployment check (confusion matrices, disagreements) and the class-interleaved data preview. */
import { describe, expect, it } from 'vitest';
import type { ImageDataset } from '../src/data/dataset.ts';
import { previewIndices } from '../src/data/summary.ts';
import { argmaxRows, predictionSamples } from '../src/train/prediction-samples.ts';

const ds = (labels: number[]): ImageDataset => ({
  name: 't', images: Uint8Array.from(labels.flatMap((_, i) => [i, i + 100])), labels: Uint8Array.from(labels), count: labels.length,
  channels: 1, height: 1, width: 2, numClasses: 3, classNames: ['a', 'b', 'c'],
});

describe('prediction samples', () => {
  it('argmax per row', () => {
    expect(argmaxRows(Float32Array.from([0.1, 0.7, 0.2, 3, -1, 2]), 2, 3)).toEqual([1, 0]);
  });

  it('confusion matrices by true × predicted class, and the images where float and simulator disagree', () => {
    const d = ds([0, 1, 2, 2, 1]);
    const s = predictionSamples(d, [0, 2, 2, 1, 1], [0, 1, 2, 2, 1]);
    expect(s.confusionInt).toEqual([[1, 0, 0], [0, 1, 1], [0, 1, 1]]);
    expect(s.confusionFloat).toEqual([[1, 0, 0], [0, 2, 0], [0, 0, 2]]);
    expect(s.disagreeCount).toBe(2);
    expect(s.disagree).toEqual([{ index: 1, label: 1, int: 2, float: 1 }, { index: 3, label: 2, int: 1, float: 2 }]);
    expect([...s.pixels]).toEqual([1, 101, 3, 103]);
    // Capped sample, full count; no float model: no disagreements.
    expect(predictionSamples(d, [0, 2, 2, 1, 1], [0, 1, 2, 2, 1], 1)).toMatchObject({ disagreeCount: 2, disagree: [{ index: 1 }] });
    expect(predictionSamples(d, [0, 2, 2, 1, 1], null)).toMatchObject({ confusionFloat: null, disagreeCount: 0, disagree: [] });
  });
});

describe('data preview', () => {
  it('takes the first images of every class, interleaved class by class', () => {
    // Class-major order, as the built-in set is: the old preview showed only class 0.
    const labels = [0, 0, 0, 1, 1, 1, 2, 2, 2];
    expect(previewIndices(labels, 3, 2)).toEqual([0, 3, 6, 1, 4, 7]);
    expect(previewIndices(labels, 3, 2, 4)).toEqual([0, 3, 6, 1]);
    expect(previewIndices([1, 1, 1], 3, 8)).toEqual([0, 1, 2]);
  });
});
