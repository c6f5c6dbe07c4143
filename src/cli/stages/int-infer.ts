/**
 * Stage `int_infer`: the deployment check. Loads DIR/qat-checkpoint (else DIR/calib-checkpoint), converts it to the
 * integer model (src/quant/convert.ts), runs the test set (or --test-subset) through the fake-quant model
 * (VALIDATION state, on the engine) and through the fixed-point simulator (the worker protocol's in-process host),
 * prints `Quantized: evaluation Acc@1 a Acc@5 b` (the simulator's accuracy), the agreement and the per-layer table
 * (worst first), and merges {"int": {...}} into DIR/report.json. Options: the same as calib / qat (parseQuant);
 * the checkpoint's qconfig (march, rounding, dtypes) is the one used; `--sim-device cpu|webgpu` (default cpu) picks
 * the simulator's kernels (webgpu: the WGSL integer path, bit-identical, on the engine's device when the backend is
 * webgpu, else on a device of its own). `--isolated` adds each layer alone, fed the fake-quant model's integers
 * (the table's "alone LSB"; the end-to-end figures carry what earlier layers left).
 */
import { join } from 'node:path';
import { createNodeBackend } from '../../engine/create-node-backend.ts';
import { convertCheckpoint } from '../../quant/convert.ts';
import { deployCheck, layersForReport, type LayerStats } from '../../quant/deploy-check.ts';
import { outputsForReport, type OutputStats } from '../../quant/deploy-outputs.ts';
import type { QuantCheckpoint } from '../../quant/quant-checkpoint.ts';
import { encodeModelFile, MODEL_FILE_EXTENSION } from '../../sim/model-file.ts';
import { SimClient } from '../../sim/client.ts';
import { spawnInProcessSim } from '../../sim/in-process.ts';
import type { SimDevice } from '../../sim/protocol.ts';
import { GpuContext } from '../../engine/webgpu/gpu-context.ts';
import { acquireNodeDevice, type NodeGpuPreference } from '../../engine/webgpu/node-gpu.ts';
import { UsageError } from '../options.ts';
import { loadStageData } from '../data.ts';
import { printAccumulatorCheck } from './accumulators.ts';
import { checkModelFitsData, dataShapeOf } from '../model-source.ts';
import { mergeReport } from '../report.ts';
import { buildQuantized, loadQuantCheckpoint, parseQuant, type QuantOptions } from './quant-common.ts';

const fmt = (x: number) => x.toFixed(2);

/** DIR/qat-checkpoint, else DIR/calib-checkpoint. */
export async function loadDeployCheckpoint(o: QuantOptions): Promise<{ ck: QuantCheckpoint; file: string }> {
  for (const stage of ['qat', 'calib'] as const) {
    const ck = await loadQuantCheckpoint(o.modelPath, stage);
    if (ck) return { ck, file: join(o.modelPath, `${stage}-checkpoint`) };
  }
  throw new Error(`${o.modelPath}: no qat-checkpoint or calib-checkpoint; run the calib stage (and qat) first`);
}

const lsbText = (v: number) => (v < 100 ? v.toFixed(2) : v.toExponential(2));
const sqnrText = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : 'exact');

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

/** A fixed-width table of the per-layer statistics. */
export function layerTable(layers: LayerStats[]): string {
  const alone = layers.some((l) => l.isolated_max_lsb !== undefined);
  const rows = layers.map((l) => [l.name, l.dtype, (100 * l.equal_frac).toFixed(2), lsbText(l.max_lsb), l.cosine.toFixed(6), sqnrText(l.sqnr_db),
    ...(alone ? [l.isolated_max_lsb === undefined ? '-' : lsbText(l.isolated_max_lsb)] : [])]);
  return table(['layer', 'dtype', 'equal %', 'max LSB', 'cosine', 'SQNR dB', ...(alone ? ['alone LSB'] : [])], rows);
}

/** A fixed-width table of the per-output statistics (top-1 only for class scores). */
export function outputTable(outs: OutputStats[]): string {
  const rows = outs.map((o) => [o.name, `[${o.shape.join('x')}]`, o.dtype, o.cosine.toFixed(6), sqnrText(o.sqnr_db), lsbText(o.max_lsb),
    o.top1_agreement === null ? '-' : o.top1_agreement.toFixed(2)]);
  return table(['output', 'shape', 'dtype', 'cosine', 'SQNR dB', 'max LSB', 'top-1 agree %'], rows);
}

/** Takes `--sim-device cpu|webgpu` (or `--sim-device=...`) out of argv; default cpu. */
export function takeSimDevice(argv: string[]): { device: SimDevice; rest: string[] } {
  const rest: string[] = [];
  let device: string = 'cpu';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--sim-device') {
      if (i + 1 >= argv.length) throw new UsageError('--sim-device needs a value: cpu|webgpu');
      device = argv[++i];
    } else if (a.startsWith('--sim-device=')) device = a.slice('--sim-device='.length);
    else rest.push(a);
  }
  if (device !== 'cpu' && device !== 'webgpu') throw new UsageError(`--sim-device must be cpu|webgpu, got "${device}"`);
  return { device, rest };
}

export async function runIntInfer(argvIn: string[]): Promise<void> {
  const { device: simDevice, rest: argv0 } = takeSimDevice(argvIn);
  // --isolated: each layer also alone, fed the fake-quant integers (the "alone LSB" column)
  const isolated = argv0.includes('--isolated');
  const argv = argv0.filter((a) => a !== '--isolated');
  const o = parseQuant(argv, 'default_qat');
  const { ck, file } = await loadDeployCheckpoint(o);
  const data = await loadStageData(o.data, o.subset, o.testSubset, o.resize, o.unlabelled);
  checkModelFitsData(ck.graph, dataShapeOf(data), file);
  const be = await createNodeBackend(o.backend, o.gpu);
  console.log(`Backend: ${be.kind} on ${be.adapter}`);
  const qm = buildQuantized(be, ck.graph, ck.params, ck.qconfig, ck.qsites);
  qm.setState('VALIDATION');
  const im = convertCheckpoint(ck, { accumulators: o.strictAccumulators ? 'refuse' : 'report' });
  const accumulators = printAccumulatorCheck(im);
  const bytes = encodeModelFile(im);
  console.log(`Integer model of ${ck.model} from ${file} (${ck.stage}; march ${im.march}, ${im.layers.length} layers, ${bytes.length} bytes as a model file)`);
  // device webgpu: the engine's GPU context when it runs on WebGPU, else a device of its own (destroyed at the end)
  let ownGpu: { ctx: GpuContext; device: GPUDevice; gpu: unknown } | null = null; // gpu: the Dawn instance stays referenced while its device lives
  const engineCtx = (be as { ctx?: unknown }).ctx;
  const gpu = async (): Promise<GpuContext> => {
    if (engineCtx instanceof GpuContext && !engineCtx.lost) return engineCtx;
    if (!ownGpu || ownGpu.ctx.lost) { // asked again after a device loss: a fresh device
      const d = await acquireNodeDevice((o.gpu as NodeGpuPreference | undefined) ?? 'auto');
      ownGpu = { ctx: new GpuContext(d.device), device: d.device, gpu: d.gpu };
      console.log(`Simulator device: webgpu on ${d.adapterName}`);
    }
    return ownGpu.ctx;
  };
  const client = new SimClient(() => spawnInProcessSim({ gpu }));
  const info = await client.load(bytes, { file: `${ck.model}${MODEL_FILE_EXTENSION}`, device: simDevice });
  console.log(`Simulator: ${info.device ?? 'cpu'} kernels`);
  let simSeconds = 0, simImages = 0;
  try {
    const r = await deployCheck(qm, im, data.test, async (x, n, dump) => {
      const t = performance.now();
      const out = await client.run([{ x, n }], { dump });
      simSeconds += (performance.now() - t) / 1000;
      simImages += n;
      return { output: out.outputs[0], outputs: out.allOutputs?.[0], dumps: out.dumps![0] };
    }, {
      batchSize: Math.min(o.batchSize, 256),
      isolated,
      onProgress: (p) => process.stderr.write(`Deployment check [${p.images}/${p.totalImages} images]\n`),
    });
    if (data.test.labels) {
      console.log(`QAT model (fake quant, VALIDATION): evaluation Acc@1 ${fmt(r.qat.acc1)} Acc@5 ${fmt(r.qat.acc5)}`);
      console.log(`Quantized: evaluation Acc@1 ${fmt(r.int.acc1)} Acc@5 ${fmt(r.int.acc5)}`);
    } else console.log('Top-1 accuracy needs labels and the data has none: the simulator is compared with the QAT model only');
    const agreement = Number.isFinite(r.agreement_top1) ? `top-1 agreement ${fmt(r.agreement_top1)} %` : 'no top-1 agreement (the output is not class scores: see per output)';
    console.log(`Simulator vs QAT model: ${agreement} of ${r.images} images; simulator ${(simImages / Math.max(simSeconds, 1e-9)).toFixed(0)} images/s (with dumps)`);
    console.log(`Per output (simulator vs QAT model):\n${outputTable(r.outputs ?? [])}`);
    console.log(`Per layer, worst first, end to end${isolated ? ' and alone (fed the QAT model\'s integers)' : ''} (LSB of int32 outputs = x_scale * w_scale):\n${layerTable(r.layers)}`);
    const islands = r.float_islands ?? [];
    if (islands.length) {
      console.log(`Heterogeneous model: ${islands.length} float island(s) run in float on the CPU between DeQuant and Quant (not on the BPU):\n` +
        islands.map((f) => `  ${f.name} (${f.op}): ${f.reason}`).join('\n'));
    }
    await mergeReport(o.modelPath, 'int', {
      acc1: r.int.acc1, acc5: r.int.acc5, agreement_top1: r.agreement_top1, layers: layersForReport(r.layers), float_islands: islands,
      outputs: outputsForReport(r.outputs ?? []),
      qat_acc1: r.qat.acc1, qat_acc5: r.qat.acc5, test_images: r.images, source: ck.stage, march: im.march,
      requant: `${im.mode}, ${im.multiplierBits}-bit multiplier`, model_file_bytes: bytes.length, accumulators,
      sim_images_per_s: simImages / Math.max(simSeconds, 1e-9), sim_device: simDevice, seconds: r.seconds, backend: be.kind, adapter: be.adapter,
    });
  } finally {
    client.dispose();
    const own = ownGpu as { ctx: GpuContext; device: GPUDevice; gpu: unknown } | null;
    if (own) {
      own.ctx.dispose();
      own.device.destroy();
    }
    qm.store.dispose();
    qm.dispose();
    be.dispose();
  }
}
