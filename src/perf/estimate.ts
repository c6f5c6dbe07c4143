/**
 * Performance estimate of an integer model on a Horizon BPU march, in the spirit of the toolchain's perf tool but
 * from a documented roofline model (docs/perf-model.md): per layer MACs by precision, parameter and feature-map
 * bytes, DDR bytes; latency per layer = max(compute time, memory time); summed to latency and FPS.
 * This is an estimate from public peak figures and stated assumptions, not a measurement.
 */
import { intLayerDef } from '../sim/layers.ts';
import type { IntLayer, IntModel } from '../sim/model.ts';
import type { March } from '../qmath/march.ts';

export interface MarchSpec {
  march: March;
  chip: string;
  /** Peak dense int8 throughput, tera-operations per second (1 MAC = 2 ops). */
  peakTops: number;
  /** DDR bandwidth available to the BPU, GB/s (10^9 bytes/s). */
  ddrGBps: number;
  /** int16 x int8 MACs cost this many int8 x int8 MACs (throughput ratio). */
  int16Cost: number;
  /** Where the figures come from, and which are assumptions. */
  source: string;
}

/** docs/perf-model.md §2 has the sources; `assumption` marks numbers that are not published figures. */
export const MARCH_SPECS: Record<March, MarchSpec> = {
  bernoulli: {
    march: 'bernoulli', chip: 'Journey 2 (BPU Bernoulli 1.0)', peakTops: 4, ddrGBps: 12.8, int16Cost: 2,
    source: 'peak: Horizon, "4 TOPS equivalent" (published); DDR: assumption, 32-bit LPDDR4-3200 = 12.8 GB/s; int16 cost: assumption',
  },
  bernoulli2: {
    march: 'bernoulli2', chip: 'Journey 3 (BPU Bernoulli 2.0)', peakTops: 5, ddrGBps: 17.0, int16Cost: 2,
    source: 'peak: Horizon, 5 TOPS (published); DDR: assumption, 32-bit LPDDR4(X)-4266 = 17.0 GB/s; int16 cost: assumption',
  },
  bayes: {
    march: 'bayes', chip: 'Journey 5 (BPU Bayes)', peakTops: 128, ddrGBps: 34.1, int16Cost: 2,
    source: 'peak: Horizon J5 OpenExplorer docs, 128 TOPS (published); DDR: assumption, 2 x 32-bit LPDDR4X-4266 = 34.1 GB/s; int16 cost: assumption',
  },
  'bayes-e': {
    march: 'bayes-e', chip: 'Bayes-e BPU (Journey 6B class)', peakTops: 18, ddrGBps: 25.6, int16Cost: 2,
    source: 'assumption: chip mapping, peak 18 TOPS and DDR (32-bit LPDDR5-6400 = 25.6 GB/s) not verified',
  },
  'nash-e': {
    march: 'nash-e', chip: 'Journey 6E (BPU Nash)', peakTops: 80, ddrGBps: 51.2, int16Cost: 2,
    source: 'peak: Horizon J6E, 80 TOPS (published); DDR: assumption, 64-bit LPDDR5-6400 = 51.2 GB/s',
  },
  'nash-m': {
    march: 'nash-m', chip: 'Journey 6M (BPU Nash)', peakTops: 128, ddrGBps: 102.4, int16Cost: 2,
    source: 'peak: Horizon J6M, 128 TOPS (published); DDR: assumption, 128-bit LPDDR5-6400 = 102.4 GB/s',
  },
};

export interface LayerPerf {
  name: string;
  op: IntLayer['op'];
  macs_int8xint8: number;
  macs_int16xint8: number;
  /** Weights + bias + requantization parameters. */
  param_bytes: number;
  /** Input feature maps of the whole batch. */
  in_bytes: number;
  /** Output feature map of the whole batch. */
  out_bytes: number;
  /** DDR traffic of this layer in one run (params once + inputs + output). */
  ddr_bytes: number;
  compute_us: number;
  memory_us: number;
  latency_us: number;
  bound: 'compute' | 'memory';
}

export interface PerfEstimate {
  model: string;
  march: March;
  chip: string;
  peak_tops: number;
  ddr_gbps: number;
  batch: number;
  layers: LayerPerf[];
  totals: {
    macs_int8xint8: number;
    macs_int16xint8: number;
    param_bytes: number;
    feature_map_bytes: number;
    ddr_bytes: number;
    latency_ms: number;
    fps: number;
  };
  model_notes: string;
}

const DTYPE_BYTES: Record<string, number> = { int8: 1, uint8: 1, int16: 2, int32: 4, float32: 4 };
const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

export function estimatePerf(m: IntModel, march: March = m.march, o: { batch?: number; spec?: MarchSpec } = {}): PerfEstimate {
  const spec = o.spec ?? MARCH_SPECS[march];
  if (!spec) throw new Error(`no performance figures for march ${march}`);
  const B = o.batch ?? 1;
  const valueBytes = (id: string): number => {
    if (id === m.input) return prod(m.inputShape) * DTYPE_BYTES.float32;
    const v = m.values[id];
    if (!v) throw new Error(`perf: unknown value ${id}`);
    return prod(v.shape) * DTYPE_BYTES[v.dtype];
  };
  const layers: LayerPerf[] = [];
  for (const l of m.layers) {
    const kind = intLayerDef(l);
    let macs8 = 0, macs16 = 0;
    const macs = kind.cost.macs(l, m);
    if (macs > 0 && m.values[l.inputs[0]]?.dtype === 'int16') macs16 = macs;
    else macs8 = macs;
    const params = kind.cost.paramBytes(l);
    const movesNothing = kind.cost.view === true; // a view: no traffic, no time
    const inBytes = movesNothing ? 0 : B * l.inputs.reduce((s, id) => s + valueBytes(id), 0);
    const outBytes = movesNothing ? 0 : l.op === 'dequantize' ? B * prod(m.values[l.inputs[0]].shape) * 4 : B * valueBytes(l.id);
    const ddr = params + inBytes + outBytes;
    const ops = 2 * B * (macs8 + spec.int16Cost * macs16);
    const computeUs = (ops / (spec.peakTops * 1e12)) * 1e6;
    const memoryUs = (ddr / (spec.ddrGBps * 1e9)) * 1e6;
    const latency = Math.max(computeUs, memoryUs);
    layers.push({
      name: l.id, op: l.op, macs_int8xint8: B * macs8, macs_int16xint8: B * macs16, param_bytes: params, in_bytes: inBytes,
      out_bytes: outBytes, ddr_bytes: ddr, compute_us: computeUs, memory_us: memoryUs, latency_us: latency,
      bound: computeUs >= memoryUs && ops > 0 ? 'compute' : 'memory',
    });
  }
  const sum = (f: (l: LayerPerf) => number) => layers.reduce((s, l) => s + f(l), 0);
  const latencyMs = sum((l) => l.latency_us) / 1000;
  const fmBytes = B * Object.entries(m.values).reduce((s, [id]) => s + valueBytes(id), 0);
  return {
    model: m.name, march, chip: spec.chip, peak_tops: spec.peakTops, ddr_gbps: spec.ddrGBps, batch: B, layers,
    totals: {
      macs_int8xint8: sum((l) => l.macs_int8xint8), macs_int16xint8: sum((l) => l.macs_int16xint8),
      param_bytes: sum((l) => l.param_bytes), feature_map_bytes: fmBytes, ddr_bytes: sum((l) => l.ddr_bytes),
      latency_ms: latencyMs, fps: latencyMs > 0 ? (1000 * B) / latencyMs : Infinity,
    },
    model_notes: `roofline lower bound (docs/perf-model.md): per layer max(2·MACs/peak, DDR bytes/bandwidth), no overlap between layers, every feature map through DDR; ${spec.source}`,
  };
}
