/** The simulator's integer tensor and its error type, shared by the CPU and GPU runs (src/sim/run.ts, run-gpu.ts). */
import type { IntArray } from './int/requant.ts';

/** An integer tensor with its full shape (batch first). */
export interface IntTensor {
  data: IntArray;
  shape: number[];
}

export class SimError extends Error {}
