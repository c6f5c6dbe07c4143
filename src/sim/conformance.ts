/**
 * Conformance runners for the fixed-point simulator's integer kernels ('pytorch' mode).
 * (Placeholder: kernels being wired in; export name `simKinds` is stable.)
 */
import type { KindRunner } from '../conformance/types.ts';

export const simKinds: Record<string, KindRunner> = {};
