// Placeholder until the kernels land (being written now); every function throws.
const todo = (op: string): never => { throw new Error(`WebGPU kernel ${op} not implemented yet`); };
export const concatChannels = (..._a: unknown[]): any => todo('concatChannels');
export const sliceChannels = (..._a: unknown[]): any => todo('sliceChannels');
