/**
 * Images of a data set as train_qat.py reads them: safetensors with x (float32 NCHW, normalized) and, for a labelled
 * set, y (int64). An unlabelled set has x only: train_qat.py then trains by distillation (--distill).
 */
import { isLabelled, type ImageDataset } from '../../data/dataset.ts';
import { normalizeImages, type Normalization } from '../../data/loader.ts';
import { encodeSafetensors, type SafeTensor } from './safetensors.ts';

export function datasetSafetensors(ds: ImageDataset, normalization: Normalization): Uint8Array {
  const t: Record<string, SafeTensor> = { x: { dtype: 'F32', shape: [ds.count, ds.channels, ds.height, ds.width], data: normalizeImages(ds, normalization) } };
  if (isLabelled(ds)) t.y = { dtype: 'I64', shape: [ds.count], data: BigInt64Array.from(ds.labels, (l) => BigInt(l)) };
  return encodeSafetensors(t, { source: ds.name, normalization: JSON.stringify(normalization), labelled: String(isLabelled(ds)) });
}
