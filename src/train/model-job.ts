/**
 * The float run's model in the training worker: a zoo model built for the loaded data (weights from
 * the seed) or the imported model set by `set-model` (its own weights, copied so a run never changes
 * the import); and the 0-epoch run, which only evaluates it.
 */
import type { Backend } from '../engine/backend.ts';
import type { ImageDataset } from '../data/dataset.ts';
import type { Normalization } from '../data/loader.ts';
import type { Graph } from '../graph/ir.ts';
import { buildModel } from '../models/zoo.ts';
import { initHostParams, type HostParams, type ParamStore } from '../nn/params.ts';
import { evaluate, type EvalResult } from './evaluate.ts';
import { isImportedName, type ModelChoice } from './model-protocol.ts';
import type { TrainJobConfig } from './protocol.ts';

export type ImportedModel = Extract<ModelChoice, { kind: 'onnx' }>;

/** The graph and initial weights of a float run on data of this per-sample shape and class count. */
/** numClasses 0: the data has no labels (a zoo model cannot be built for it; an imported model fits any). */
export function floatModelFor(cfg: TrainJobConfig, imported: ImportedModel | null, shape: number[], numClasses: number): { graph: Graph; host: HostParams } {
  if (!isImportedName(cfg.model)) {
    if (numClasses === 0) throw new Error(`${cfg.model} is built for the data's classes, and the loaded data has no labels: train it on labelled data, or import a model`);
    const graph = buildModel(cfg.model, { inputShape: shape, numClasses });
    return { graph, host: initHostParams(graph, cfg.seed) };
  }
  if (!imported || imported.name !== cfg.model) throw new Error(`the model "${cfg.model}" was not sent to the worker (select or import it again)`);
  const g = imported.graph;
  if (g.inputShape.join('x') !== shape.join('x') || (numClasses !== 0 && g.numClasses !== numClasses)) {
    throw new Error(`${cfg.model.slice(4)} takes ${g.inputShape.join('x')} inputs with ${g.numClasses} classes; the loaded data is ` +
      `${shape.join('x')} with ${numClasses}: load matching data (or set the input shape when importing)`);
  }
  const host: HostParams = {};
  for (const [k, v] of Object.entries(imported.host)) host[k] = v.slice();
  return { graph: g, host };
}

/** The 0-epoch float run: evaluate the model as it is on the test images. */
export function evaluateOnly(be: Backend, graph: Graph, store: ParamStore, test: ImageDataset, normalize: Normalization,
  signal: AbortSignal): Promise<EvalResult> {
  return evaluate(be, graph, store, test, { normalize, signal });
}
