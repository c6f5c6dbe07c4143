/**
 * What the Deploy panel downloads: the file names, and the JSON report (the CLI's report.json "int" and "compile"
 * sections in one object: agreement, accuracy of each side, per-layer statistics worst first, the estimate per
 * march, the artifacts' sizes). Pure.
 */
import { layersForReport } from '../../../quant/deploy-check.ts';
import { outputsForReport } from '../../../quant/deploy-outputs.ts';
import { MODEL_FILE_EXTENSION } from '../../../sim/model-file.ts';
import { torchFolderName } from '../../../io/torch/torch-names.ts';
import type { DeployState } from '../../store/deploy-slice.ts';

export const ONNX_FILE_EXTENSION = '.qdq.onnx';

export function deployFileNames(model: string, source: string): { modelFile: string; onnx: string; torch: string; report: string } {
  const base = `${model}-${source}`;
  return {
    modelFile: `${base}${MODEL_FILE_EXTENSION}`, onnx: `${base}${ONNX_FILE_EXTENSION}`, torch: `${torchFolderName(model, source)}.zip`,
    report: `${base}-deploy-report.json`,
  };
}

export interface DeployReportContext {
  data: string;
  createdAt: string;
}

/** The report of a finished (or only prepared) check; null before the worker made the artifacts. */
export function deployReport(d: DeployState, ctx: DeployReportContext): Record<string, unknown> | null {
  const a = d.artifacts;
  if (!a) return null;
  const r = d.result;
  return {
    format: 'quant-studio-deploy-report',
    version: 1,
    created_at: ctx.createdAt,
    model: a.model,
    source: a.source,
    march: a.march,
    data: { name: ctx.data, split: d.settings.split, images: r?.images ?? a.totalImages },
    int: r
      ? {
        agreement_top1: r.agreement_top1, acc1: r.int.acc1, acc5: r.int.acc5, qat_acc1: r.qat.acc1, qat_acc5: r.qat.acc5,
        test_images: r.images, seconds: r.seconds, sim_images_per_s: d.job.simImagesPerSecond, layers: layersForReport(r.layers),
        outputs: outputsForReport(r.outputs ?? []),
      }
      : null,
    compile: {
      model_file_bytes: a.modelFile.length, onnx_bytes: a.onnx?.length ?? null, onnx_error: a.onnxError,
      torch_zip_bytes: a.torchZip?.length ?? null, torch_error: a.torchError ?? null, int_layers: a.intLayers,
      accumulators: a.accumulators ?? null,
      perf: a.perf.map((p) => ({ march: p.march, chip: p.chip, peak_tops: p.peak_tops, ddr_gbps: p.ddr_gbps, batch: p.batch, ...p.totals })),
      perf_notes: a.perf[0]?.model_notes ?? null,
    },
  };
}

/** JSON with the numbers JSON cannot hold written as null (an exact layer's SQNR is already null). */
export function reportBytes(report: Record<string, unknown>): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
}
