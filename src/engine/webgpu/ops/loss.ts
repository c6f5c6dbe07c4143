// Placeholder until the kernels land (being written now); every function throws.
const todo = (op: string): never => { throw new Error(`WebGPU kernel ${op} not implemented yet`); };
export const softmaxCrossEntropy = (..._a: unknown[]): any => todo('softmaxCrossEntropy');
export const softmaxCrossEntropyBackward = (..._a: unknown[]): any => todo('softmaxCrossEntropyBackward');
