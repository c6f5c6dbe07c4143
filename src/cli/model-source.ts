/**
 * Where a stage's float model comes from: a zoo model (--model NAME, parameters from the seed) or an
 * imported ONNX file (--onnx FILE, parameters from the file), and the input normalization that goes
 * with it (--input-scale/--input-mean/--input-std, else the file's metadata, else pixel/255).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Normalization } from '../data/loader.ts';
import type { Graph } from '../graph/ir.ts';
import { importOnnx, normalizationFrom, OnnxImportError, type OnnxImportResult } from '../io/onnx/import.ts';
import { buildModel } from '../models/zoo.ts';
import { initHostParams, type HostParams } from '../nn/params.ts';
import { UsageError, type CommonOptions } from './options.ts';

export interface ModelSource {
  graph: Graph;
  /** Initial parameters: the ONNX file's, or the seed's initialisation for a zoo model. */
  host: HostParams;
  normalization: Normalization;
  /** The name checkpoints record: the zoo name, or `onnx:<file name>`. */
  modelName: string;
  /** The import, when --onnx. */
  onnx: OnnxImportResult | null;
}

export async function loadModelSource(o: CommonOptions): Promise<ModelSource> {
  if (o.onnx) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(o.onnx));
    } catch (e) {
      throw new UsageError(`--onnx ${o.onnx}: cannot read the file (${(e as Error).message})`);
    }
    const r = importOnnx(bytes, basename(o.onnx), { preprocessing: o.preprocessing ?? undefined });
    return { graph: r.graph, host: r.host, normalization: r.normalization, modelName: `onnx:${basename(o.onnx)}`, onnx: r };
  }
  const graph = buildModel(o.model);
  let normalization: Normalization = 'pixel/255';
  try {
    if (o.preprocessing) normalization = normalizationFrom(o.preprocessing);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return { graph, host: initHostParams(graph, o.seed), normalization, modelName: o.model, onnx: null };
}

/** A one-line description of the import for the log. */
export function describeImport(r: OnnxImportResult, file: string): string {
  const norm = r.normalization === 'pixel/255' ? 'pixel/255' : `(pixel/255 - [${r.normalization.mean}]) / [${r.normalization.std}]`;
  return `Imported ${file} (opset ${r.opset}${r.producer ? `, ${r.producer}` : ''}): ${r.graph.nodes.length} nodes, ` +
    `input [${r.inputShape}], ${r.graph.numClasses} outputs, input ${norm} (${r.normalizationSource})`;
}

export { OnnxImportError };
