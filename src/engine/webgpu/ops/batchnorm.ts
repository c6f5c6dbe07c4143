// Placeholder until the kernels land (being written now); every function throws.
const todo = (op: string): never => { throw new Error(`WebGPU kernel ${op} not implemented yet`); };
export const bnStats = (..._a: unknown[]): any => todo('bnStats');
export const bnForward = (..._a: unknown[]): any => todo('bnForward');
export const bnBackward = (..._a: unknown[]): any => todo('bnBackward');
export const emaInPlace = (..._a: unknown[]): any => todo('emaInPlace');
