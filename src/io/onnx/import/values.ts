/** The values the importer tracks per ONNX name: computed tensors (an IR node) and constants. */
import type { TensorProto } from '../proto-types.ts';

export interface TensorVal {
  kind: 'tensor';
  /** IR node id producing the value. */
  id: string;
  /** Per-sample ONNX shape (batch excluded). */
  shape: number[];
  /** The IR value is [C] while the ONNX value is [C, 1, 1] (a GlobalAveragePool output). */
  squeezed?: boolean;
}

export interface ConstVal {
  kind: 'const';
  dims: number[];
  /** float for float tensors, numbers for integer tensors. */
  data: Float32Array | number[];
  dataType: number;
  /**
   * Elements that stand for the batch size (a Shape of a tensor, src/io/onnx/import/fold.ts): their data is a
   * placeholder. Folding may move them (Gather, Concat, Unsqueeze) but not compute with them; a Reshape target
   * reads them as "keep the batch".
   */
  batch?: boolean[];
}

/** An initializer or Constant tensor, decoded when first read (an unused odd-typed one does no harm). */
export interface LazyVal {
  kind: 'lazy';
  t: TensorProto;
  what: string;
}

export type Val = TensorVal | ConstVal;

export const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
export const MAX_ELEMENTS = 2 ** 31;
