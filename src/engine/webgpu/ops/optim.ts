// Placeholder until the kernels land (being written now); every function throws.
const todo = (op: string): never => { throw new Error(`WebGPU kernel ${op} not implemented yet`); };
export const sgdStep = (..._a: unknown[]): any => todo('sgdStep');
export const adamStep = (..._a: unknown[]): any => todo('adamStep');
