// Placeholder until the kernels land (being written now); every function throws.
const todo = (op: string): never => { throw new Error(`WebGPU kernel ${op} not implemented yet`); };
export const avgPool2d = (..._a: unknown[]): any => todo('avgPool2d');
export const avgPool2dBackward = (..._a: unknown[]): any => todo('avgPool2dBackward');
export const maxPool2d = (..._a: unknown[]): any => todo('maxPool2d');
export const maxPool2dBackward = (..._a: unknown[]): any => todo('maxPool2dBackward');
export const globalAvgPool = (..._a: unknown[]): any => todo('globalAvgPool');
export const globalAvgPoolBackward = (..._a: unknown[]): any => todo('globalAvgPoolBackward');
