/**
 * Where a stage's float model comes from: a zoo model (--model NAME, parameters from the seed) or an
 * imported ONNX file (--onnx FILE, parameters from the file), and the input normalization that goes
 * with it (--input-scale/--input-mean/--input-std, else the file's metadata, else pixel/255).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { TrainTestData } from '../data/dataset.ts';
import type { Normalization } from '../data/loader.ts';
import type { Graph } from '../graph/ir.ts';
import { importOnnx, normalizationFrom, OnnxImportError, type OnnxImportResult } from '../io/onnx/import.ts';
import { buildModel, MODEL_NAMES } from '../models/zoo.ts';
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

/**
 * What a model must take and give to run on a data set: [C, H, W] images and a number of classes. Data without
 * labels (labelled false) asks nothing of the model's outputs.
 */
export interface DataShape { inputShape: number[]; numClasses: number; source: string; labelled?: boolean }

export function dataShapeOf(d: TrainTestData): DataShape {
  return { inputShape: [d.train.channels, d.train.height, d.train.width], numClasses: d.train.numClasses, source: d.source, labelled: d.train.labels !== null };
}

const classesOf = (d: DataShape) => (d.labelled === false ? 'without labels' : `of ${d.numClasses} classes`);

/** Throws (naming `what`, e.g. a checkpoint file) when a model's input shape or class count does not fit the data. */
export function checkModelFitsData(graph: Pick<Graph, 'inputShape' | 'numClasses'>, data: DataShape, what: string): void {
  const ok = graph.inputShape.join('x') === data.inputShape.join('x') && (data.labelled === false || graph.numClasses >= data.numClasses);
  if (!ok) {
    throw new UsageError(`${what} takes ${graph.inputShape.join('x')} inputs and gives ${graph.numClasses} classes, but the data ` +
      `(${data.source}) has ${data.inputShape.join('x')} images ${classesOf(data)}` +
      (graph.inputShape.slice(1).join('x') !== data.inputShape.slice(1).join('x') ? `; --resize ${graph.inputShape[1]}x${graph.inputShape[2]} resizes the images` : ''));
  }
}

/** What a float checkpoint records of its data, so that later stages refuse data of another shape. */
export function checkpointDataMeta(d: DataShape): Record<string, unknown> {
  return { inputShape: d.inputShape, numClasses: d.numClasses, data: d.source };
}

/** Throws when a checkpoint (its meta from checkpointDataMeta) was made on data of another shape than `d`. */
export function checkCheckpointData(meta: Record<string, unknown>, d: DataShape, file: string): void {
  const shape = meta.inputShape as number[] | undefined, classes = meta.numClasses as number | undefined;
  if (!shape) return; // a checkpoint from before data shapes were recorded: 1x28x28, 10 classes
  if (shape.join('x') !== d.inputShape.join('x') || (d.labelled !== false && classes !== d.numClasses)) {
    throw new UsageError(`${file} was trained on ${shape.join('x')} images of ${classes} classes (${String(meta.data)}), ` +
      `but the data (${d.source}) has ${d.inputShape.join('x')} images ${classesOf(d)}` +
      (shape.slice(1).join('x') !== d.inputShape.slice(1).join('x') ? `; --resize ${shape[1]}x${shape[2]} resizes the images` : ''));
  }
}

/**
 * The stage's model for data of shape `data`: a zoo model is built for the data's image shape and classes (as the
 * page does); an imported model must already fit it.
 */
export async function loadModelSource(o: CommonOptions, data: DataShape): Promise<ModelSource> {
  if (o.onnx) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(o.onnx));
    } catch (e) {
      throw new UsageError(`--onnx ${o.onnx}: cannot read the file (${(e as Error).message})`);
    }
    const r = importOnnx(bytes, basename(o.onnx), { preprocessing: o.preprocessing ?? undefined });
    checkModelFitsData(r.graph, data, `--onnx ${o.onnx}`);
    return { graph: r.graph, host: r.host, normalization: r.normalization, modelName: `onnx:${basename(o.onnx)}`, onnx: r };
  }
  if (!(MODEL_NAMES as readonly string[]).includes(o.model)) throw new UsageError(`--model must be one of ${MODEL_NAMES.join('|')}, got "${o.model}"`);
  if (data.numClasses < 1) {
    throw new UsageError(`--model ${o.model} is built for the data's classes, but the data (${data.source}) has no labels: ` +
      'train its float model on labelled data first, or import a model with --onnx');
  }
  const graph = buildModel(o.model, { inputShape: data.inputShape, numClasses: data.numClasses });
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
