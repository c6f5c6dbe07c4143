/**
 * The per-frame costs a roofline leaves out, and the estimate as a range (docs/perf-model.md §5). The roofline
 * (estimate.ts) counts MACs and DDR bytes at 100 % of peak; a real inference also pays a fixed cost per call, a
 * dispatch per layer, a DDR round trip per layer that cannot be hidden, and the copy of the input and output between
 * the application's buffers and the BPU's tensors. Horizon publishes none of these, so every number here is an
 * assumption, given as a [low, high] span; the low end keeps the roofline's 100 % utilisation.
 */
import type { PerfEstimate } from './estimate.ts';

export interface FrameAssumptions {
  /** ms per inference: the runtime API call, cache maintenance of the tensors, the completion interrupt. */
  invokeMs: [number, number];
  /** µs per layer that moves data: instruction dispatch and synchronisation with the previous layer. */
  layerUs: [number, number];
  /** µs per such layer: one DDR round trip that is not hidden (a layer's first read waits for the previous write). */
  ddrLatencyUs: [number, number];
  /** GB/s of the copies of the input into the BPU's input tensor and of the output back (CPU memcpy). */
  ioGBps: [number, number];
  /** Fraction of peak compute and bandwidth reached, [best, worst]. */
  utilisation: [number, number];
}

const ASSUMED: FrameAssumptions = {
  invokeMs: [0.05, 0.5],
  layerUs: [1, 10],
  ddrLatencyUs: [0.1, 0.4],
  ioGBps: [10, 2],
  utilisation: [1, 0.25],
};
export const FRAME_ASSUMPTIONS: Readonly<FrameAssumptions> = Object.freeze(ASSUMED);

type Span = [number, number];

/** Each cost in ms, [low, high]; `latencyMs` is their sum, `fps` the range's frames per second (ends swapped). */
export interface FrameRange {
  latencyMs: Span;
  fps: Span;
  parts: { roofline: Span; invoke: Span; dispatch: Span; ddrLatency: Span; io: Span };
  /** Layers that move data (views such as flatten do not), the count the per-layer costs multiply. */
  layers: number;
  /** Bytes of the float input handed in and the float output read back, whole batch. */
  ioBytes: number;
  /** Share of the fixed (non-roofline) costs in the latency, [at low, at high]. */
  overheadShare: Span;
}

/** The range of one march's estimate; `est` must carry its per-layer rows. */
export function frameRange(est: Pick<PerfEstimate, 'layers' | 'totals' | 'batch'>, a: Readonly<FrameAssumptions> = FRAME_ASSUMPTIONS): FrameRange {
  const moving = est.layers.filter((l) => l.ddr_bytes > 0);
  const layers = moving.length;
  // The float input enters at the QuantStub, the float output leaves at the DeQuantStub.
  const ioBytes = est.layers.filter((l) => l.op === 'quantize').reduce((s, l) => s + l.in_bytes, 0)
    + est.layers.filter((l) => l.op === 'dequantize').reduce((s, l) => s + l.out_bytes, 0);
  const span = (f: (i: 0 | 1) => number): Span => [f(0), f(1)];
  const parts = {
    roofline: span((i) => est.totals.latency_ms / a.utilisation[i]),
    invoke: span((i) => a.invokeMs[i]),
    dispatch: span((i) => (layers * a.layerUs[i]) / 1000),
    ddrLatency: span((i) => (layers * a.ddrLatencyUs[i]) / 1000),
    io: span((i) => (ioBytes / (a.ioGBps[i] * 1e9)) * 1000),
  };
  const total = span((i) => parts.roofline[i] + parts.invoke[i] + parts.dispatch[i] + parts.ddrLatency[i] + parts.io[i]);
  return {
    latencyMs: total,
    fps: [(1000 * est.batch) / total[1], (1000 * est.batch) / total[0]],
    parts,
    layers,
    ioBytes,
    overheadShare: span((i) => 1 - parts.roofline[i] / total[i]),
  };
}
