/** The importer's public options and result, the supported opsets and operators. */
import type { Normalization } from '../../../data/loader.ts';
import type { Graph } from '../../../graph/ir.ts';
import type { HostParams } from '../../../nn/params.ts';
import { onnxImporters } from '../../../ops/registry.ts';

/** Opsets 9 and 10 read their older operator forms (Upsample, Resize-10, Slice-1, MaxPool-8) in the ops' importers. */
export const MIN_OPSET = 9;
export const MAX_OPSET = 17;
/** ONNX IR versions the importer reads: 3 (opset imports) to 11 (ONNX 1.18); outside, the file's structure may differ. */
export const MIN_IR_VERSION = 3;
export const MAX_IR_VERSION = 11;

/** The ONNX operators the importer reads: from the operator registry (src/ops/registry.ts). */
export const SUPPORTED_OPS: readonly string[] = [...onnxImporters().keys()];

/** Input preprocessing as the user states it: x = (pixel * scale - mean) / std (mean/std per channel or one). */
export interface InputPreprocessing {
  scale?: number;
  mean?: number[];
  std?: number[];
}

export interface OnnxImportOptions {
  /** Per-sample input shape [C, H, W], for a file whose input dimensions are symbolic. */
  inputShape?: number[];
  /** Preprocessing; overrides the file's metadata (keys input_scale, input_mean, input_std). */
  preprocessing?: InputPreprocessing;
  /** Graph name (default: the file name without .onnx). */
  name?: string;
}

export interface OnnxImportResult {
  graph: Graph;
  host: HostParams;
  /** Per-sample input shape [C, H, W]. */
  inputShape: number[];
  /** The data loader's normalization for this model's input. */
  normalization: Normalization;
  /** Where the normalization came from. */
  normalizationSource: 'options' | 'file' | 'default';
  opset: number;
  producer: string;
}
