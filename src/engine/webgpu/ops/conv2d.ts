// Placeholder until the kernels land (being written now); every function throws.
const todo = (op: string): never => { throw new Error(`WebGPU kernel ${op} not implemented yet`); };
export const conv2d = (..._a: unknown[]): any => todo('conv2d');
export const conv2dBackwardInput = (..._a: unknown[]): any => todo('conv2dBackwardInput');
export const conv2dBackwardWeight = (..._a: unknown[]): any => todo('conv2dBackwardWeight');
export const channelSum = (..._a: unknown[]): any => todo('channelSum');
