/**
 * Pooling window arithmetic shared by the float engine (CPU reference and WGSL hosts), the graph's shape inference
 * and the integer simulator, so that all of them agree on the output size and on each window's divisor.
 * PyTorch's rules (which onnxruntime follows for the models PyTorch exports):
 *  - output size: floor((in + 2·pad − k) / s) + 1, or with ceil_mode ceil(...) + 1, minus one when the last window
 *    would start in the right padding (so every window holds at least one real element);
 *  - average divisor per axis: the window [start, start + k) clipped to [−pad, in + pad) with count_include_pad
 *    (the ceil_mode overhang past the right padding is never counted), or to the real input [0, in) without.
 */
export function poolOutSize(inSize: number, kernel: number, stride: number, pad: number, ceilMode = false): number {
  const span = inSize + 2 * pad - kernel;
  if (!ceilMode) return Math.floor(span / stride) + 1;
  let out = Math.ceil(span / stride) + 1;
  if ((out - 1) * stride >= inSize + pad) out--;
  return out;
}

/** The number of positions of output `o`'s window that count in the average, along one axis. */
export function poolWindowCount(o: number, inSize: number, kernel: number, stride: number, pad: number, includePad: boolean): number {
  const start = o * stride - pad;
  const end = Math.min(start + kernel, inSize + pad);
  return includePad ? end - start : Math.min(end, inSize) - Math.max(start, 0);
}
