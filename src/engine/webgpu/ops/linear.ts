// Placeholder until the kernels land (being written now); every function throws.
const todo = (op: string): never => { throw new Error(`WebGPU kernel ${op} not implemented yet`); };
export const linear = (..._a: unknown[]): any => todo('linear');
export const linearBackwardInput = (..._a: unknown[]): any => todo('linearBackwardInput');
export const linearBackwardWeight = (..._a: unknown[]): any => todo('linearBackwardWeight');
export const sumRows = (..._a: unknown[]): any => todo('sumRows');
