/** What the model panel shows about a zoo model (built once per name; graphs are small and pure) or an imported graph. */
import { macsPerSample, parameterCount, type Graph } from '../../../graph/ir.ts';
import { buildModel } from '../../../models/zoo.ts';

export interface ModelInfo {
  name: string;
  parameters: number;
  macs: number;
  /** Per-sample input shape [C, H, W]. */
  inputShape: number[];
  numClasses: number;
  /** Graph nodes (layers and stubs). */
  nodes: number;
  convLayers: number;
  linearLayers: number;
}

const cache = new Map<string, ModelInfo>();

/** The model as built for an input shape [C, H, W] and class count (default: Fashion-MNIST's). */
export function describeModel(name: string, inputShape?: number[], numClasses?: number): ModelInfo {
  const key = `${name}|${inputShape?.join('x') ?? ''}|${numClasses ?? ''}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const info = describeGraph(name, buildModel(name, { inputShape, numClasses }));
  cache.set(key, info);
  return info;
}

const graphCache = new WeakMap<Graph, ModelInfo>();

/** The same facts for a graph as it is (an imported model). */
export function describeGraph(name: string, g: Graph): ModelInfo {
  const hit = graphCache.get(g);
  if (hit) return hit;
  const info: ModelInfo = {
    name,
    parameters: parameterCount(g),
    macs: macsPerSample(g),
    inputShape: [...g.inputShape],
    numClasses: g.numClasses,
    nodes: g.nodes.length,
    convLayers: g.nodes.filter((n) => n.op === 'conv2d').length,
    linearLayers: g.nodes.filter((n) => n.op === 'linear').length,
  };
  graphCache.set(g, info);
  return info;
}
