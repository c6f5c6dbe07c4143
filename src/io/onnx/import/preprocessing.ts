/** Input preprocessing: the user's (scale, mean, std) or the file's metadata, as the data loader's Normalization. */
import type { Normalization } from '../../../data/loader.ts';
import type { ModelProto } from '../proto.ts';
import type { InputPreprocessing } from './types.ts';

/** The loader's Normalization for x = (pixel * scale - mean) / std; 'pixel/255' when that is what it is. */
export function normalizationFrom(p: InputPreprocessing): Normalization {
  const scale = p.scale ?? 1 / 255;
  const mean = p.mean ?? [0];
  const std = p.std ?? [1];
  if (!(Number.isFinite(scale) && scale > 0)) throw new RangeError(`input scale must be a positive number, got ${scale}`);
  if (!mean.length || !std.length || ![...mean, ...std].every(Number.isFinite) || !std.every((s) => s > 0)) {
    throw new RangeError(`input mean/std must be finite numbers (std > 0), got mean [${mean}] std [${std}]`);
  }
  if (Math.abs(scale * 255 - 1) < 1e-9 && mean.every((m) => m === 0) && std.every((s) => s === 1)) return 'pixel/255';
  // (p * scale - m) / s = (p / 255 - m / (255 scale)) / (s / (255 scale))
  const k = 255 * scale;
  return { mean: mean.map((m) => m / k), std: std.map((s) => s / k) };
}

/** Per-sample preprocessing declared in the model's metadata_props (input_scale, input_mean, input_std). */
export function metadataPreprocessing(m: ModelProto): InputPreprocessing | null {
  const props = new Map((m.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  if (!props.has('input_scale') && !props.has('input_mean') && !props.has('input_std')) return null;
  const list = (s: string | undefined) => (s === undefined ? undefined : s.replace(/[[\]]/g, '').split(',').map((x) => Number(x.trim())));
  const scale = props.has('input_scale') ? Number(props.get('input_scale')) : undefined;
  return { scale, mean: list(props.get('input_mean')), std: list(props.get('input_std')) };
}
