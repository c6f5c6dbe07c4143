/** Images of a data set as train_qat.py reads them: safetensors with x (float32 NCHW, normalized) and y (int64). */
import { requireLabels, type ImageDataset } from '../../data/dataset.ts';
import { normalizeImages, type Normalization } from '../../data/loader.ts';
import { encodeSafetensors } from './safetensors.ts';

export function datasetSafetensors(ds: ImageDataset, normalization: Normalization): Uint8Array {
  const labels = requireLabels(ds, 'The PyTorch QAT package (train_qat.py trains with cross-entropy)').labels;
  return encodeSafetensors({
    x: { dtype: 'F32', shape: [ds.count, ds.channels, ds.height, ds.width], data: normalizeImages(ds, normalization) },
    y: { dtype: 'I64', shape: [ds.count], data: BigInt64Array.from(labels, (l) => BigInt(l)) },
  }, { source: ds.name, normalization: JSON.stringify(normalization) });
}
