/**
 * Stage `compile --march M`: the deployable artefacts of DIR/qat-checkpoint (else DIR/calib-checkpoint):
 *   DIR/model.qsbin      the integer model file (src/sim/model-file.ts), verified by loading it back
 *   DIR/perf.json        the performance estimate on march M (src/perf/estimate.ts, docs/perf-model.md)
 *   DIR/model.qdq.onnx   the ONNX QDQ export, written by exportQdqOnnx of src/io/onnx/export-qdq.ts (another
 *                        module; used when present, otherwise the stage says that it is not available yet)
 * The integer arithmetic follows the checkpoint's march; --march only selects the performance figures (a
 * different march than the checkpoint's is reported, since bernoulli needs power-of-two scales from QAT).
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNodeBackend } from '../../engine/create-node-backend.ts';
import { convertCheckpoint } from '../../quant/convert.ts';
import type { QuantCheckpoint } from '../../quant/quant-checkpoint.ts';
import { estimatePerf, type PerfEstimate } from '../../perf/estimate.ts';
import { FRAME_ASSUMPTIONS, frameRange } from '../../perf/frame-range.ts';
import { decodeModelFile, encodeModelFile } from '../../sim/model-file.ts';
import { mergeReport } from '../report.ts';
import { printAccumulatorCheck } from './accumulators.ts';
import { loadDeployCheckpoint } from './int-infer.ts';
import { buildQuantized, parseQuant, type QuantOptions } from './quant-common.ts';

export const MODEL_FILE_NAME = 'model.qsbin';
export const PERF_FILE_NAME = 'perf.json';
export const ONNX_FILE_NAME = 'model.qdq.onnx';

export function perfTable(p: PerfEstimate): string {
  const rows = p.layers.filter((l) => l.ddr_bytes > 0).map((l) => [l.name, l.op, String(l.macs_int8xint8), String(l.macs_int16xint8),
    String(l.param_bytes), String(l.ddr_bytes), l.latency_us.toFixed(3), l.bound]);
  const head = ['layer', 'op', 'MACs i8xi8', 'MACs i16xi8', 'param B', 'DDR B', 'est. us', 'bound'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

/**
 * ---- ONNX QDQ export call site (owned by the ONNX exporter: src/io/onnx/export-qdq.ts) ----
 * Dynamic import, guarded: this stage works whether or not that module exists yet.
 */
async function exportOnnxIfAvailable(o: QuantOptions, ck: QuantCheckpoint, file: string): Promise<boolean> {
  const modUrl = new URL('../../io/onnx/export-qdq.ts', import.meta.url);
  if (!existsSync(fileURLToPath(modUrl))) {
    console.log(`ONNX QDQ export is not available yet (src/io/onnx/export-qdq.ts is missing): ${file} not written`);
    return false;
  }
  const mod = (await import(modUrl.href)) as { exportQdqOnnx?: (qm: unknown, file?: string) => Promise<Uint8Array> };
  if (typeof mod.exportQdqOnnx !== 'function') {
    console.log(`ONNX QDQ export is not available yet (src/io/onnx/export-qdq.ts has no exportQdqOnnx): ${file} not written`);
    return false;
  }
  const be = await createNodeBackend('cpu');
  const qm = buildQuantized(be, ck.graph, ck.params, ck.qconfig, ck.qsites);
  qm.setState('VALIDATION');
  try {
    const bytes = await mod.exportQdqOnnx(qm, file);
    console.log(`Wrote ${file} (ONNX QDQ, ${bytes.length} bytes)`);
    return true;
  } finally {
    qm.store.dispose();
    qm.dispose();
    be.dispose();
  }
}

export async function runCompile(argv: string[]): Promise<void> {
  const o = parseQuant(argv, 'default_qat');
  const { ck, file } = await loadDeployCheckpoint(o);
  const march = o.rest.march !== undefined ? o.march : ck.qconfig.march;
  if (march !== ck.qconfig.march) {
    console.log(`Note: the checkpoint was quantized for march ${ck.qconfig.march}; the model file keeps its arithmetic, perf.json estimates ${march}`);
  }
  const im = convertCheckpoint(ck, { accumulators: o.strictAccumulators ? 'refuse' : 'report' });
  const accumulators = printAccumulatorCheck(im);
  const bytes = encodeModelFile(im);
  const modelFile = join(o.modelPath, MODEL_FILE_NAME);
  await writeFile(modelFile, bytes);
  decodeModelFile(bytes, modelFile); // what was written loads back
  console.log(`Wrote ${modelFile} (integer model of ${ck.model} from ${file}, format QSIM v1, ${bytes.length} bytes)`);
  const perf = estimatePerf(im, march, { batch: 1 });
  const range = frameRange(perf);
  const perfFile = join(o.modelPath, PERF_FILE_NAME);
  await writeFile(perfFile, JSON.stringify({ ...perf, range, range_assumptions: FRAME_ASSUMPTIONS }, null, 2) + '\n');
  console.log(`Performance estimate on ${march} (${perf.chip}: ${perf.peak_tops} TOPS, ${perf.ddr_gbps} GB/s; roofline, batch 1):\n${perfTable(perf)}`);
  console.log(`Estimated latency ${perf.totals.latency_ms.toFixed(4)} ms, ${perf.totals.fps.toFixed(0)} FPS; ` +
    `${perf.totals.macs_int8xint8} int8xint8 + ${perf.totals.macs_int16xint8} int16xint8 MACs, ${perf.totals.param_bytes} parameter bytes, ${perf.totals.ddr_bytes} DDR bytes per run`);
  console.log(`With the per-frame costs the roofline leaves out (assumed; docs/perf-model.md §5): ${range.latencyMs[0].toFixed(3)}–${range.latencyMs[1].toFixed(3)} ms, ` +
    `${range.fps[0].toFixed(0)}–${range.fps[1].toFixed(0)} FPS`);
  console.log(`Wrote ${perfFile}`);
  const onnxFile = join(o.modelPath, ONNX_FILE_NAME);
  const onnx = await exportOnnxIfAvailable(o, ck, onnxFile);
  await mergeReport(o.modelPath, 'compile', {
    march, model_file: modelFile, model_file_bytes: bytes.length, perf_file: perfFile, onnx_file: onnx ? onnxFile : null,
    latency_ms: perf.totals.latency_ms, fps: perf.totals.fps, latency_ms_range: range.latencyMs, fps_range: range.fps, macs_int8xint8: perf.totals.macs_int8xint8,
    macs_int16xint8: perf.totals.macs_int16xint8, param_bytes: perf.totals.param_bytes, ddr_bytes: perf.totals.ddr_bytes,
    accumulators,
  });
}
