/**
 * Conformance cases: the JSON format of ../shared/conformance (copied into tests/conformance/cases).
 * Each kind of case has a runner; the CLI (`npm run conformance -- DIR`) dispatches on `kind`.
 */
export interface CaseTensor {
  shape: number[];
  dtype: 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'int8' | 'bool';
  data: number[] | boolean[];
}

export interface CaseFile {
  kind: string;
  name: string;
  note?: string;
  inputs: Record<string, unknown>;
  params: Record<string, unknown>;
  expected: Record<string, unknown>;
  derived?: Record<string, unknown>;
  alt_expected?: Record<string, unknown>;
  meta?: Record<string, unknown>;
}

export type ConformanceBackend = 'cpu' | 'webgpu';

/** One difference found: which output, the first differing flat index, and both values. */
export interface Mismatch {
  output: string;
  index: number;
  expected: number;
  actual: number;
  /** How many elements of this output differ (beyond the tolerance). */
  count: number;
}

export interface CaseResult {
  ok: boolean;
  mismatches: Mismatch[];
  /** Set when the case could not be run at all (bad file, unsupported parameter). */
  error?: string;
}

export interface KindContext {
  backend: ConformanceBackend;
}

export type KindRunner = (c: CaseFile, ctx: KindContext) => Promise<CaseResult>;
