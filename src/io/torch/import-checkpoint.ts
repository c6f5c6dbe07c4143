/**
 * Bringing a PyTorch QAT result back: the folder train_qat.py writes (weights.safetensors, qparams.json,
 * studio-graph.json; see templates/studio_quant.py save_checkpoint for why not the pickle checkpoint.pt) becomes a
 * qat checkpoint of the same fused graph, ready for convert, the simulator, the deployment check and export.
 *
 * Carried over: every fused float parameter, every activation site's scale and running range (a later QAT in the
 * studio continues the moving average from it). Weight scales are not stored by the studio (it takes them from the
 * weights at every forward); the file's are compared with the recomputed ones and the differences counted.
 */
import type { Graph } from '../../graph/ir.ts';
import type { HostParams } from '../../nn/params.ts';
import { prepare } from '../../quant/prepare.ts';
import type { QuantCheckpoint } from '../../quant/quant-checkpoint.ts';
import { weightScalesOf } from '../onnx/export-qdq.ts';
import { STUDIO_GRAPH_FORMAT, type StudioGraphJson } from './export-package.ts';
import { TORCH_FORMAT, type TorchQParamsJson } from './qparams-json.ts';
import { decodeSafetensors } from './safetensors.ts';
import { activationSiteKey, torchModuleNames, weightSiteKey } from './torch-names.ts';

export class TorchImportError extends Error {
  constructor(readonly file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'TorchImportError';
  }
}

export interface TorchImportFiles {
  /** File name (or path) -> bytes, for the three files of a checkpoint folder. */
  'weights.safetensors': { name: string; bytes: Uint8Array };
  'qparams.json': { name: string; bytes: Uint8Array };
  'studio-graph.json': { name: string; bytes: Uint8Array };
}

export interface TorchImportResult {
  checkpoint: QuantCheckpoint;
  /** Weight channels whose scale in qparams.json differs from the one the studio computes from the weights. */
  weightScaleMismatches: number;
  activationSites: number;
}

function parseJson<T>(f: { name: string; bytes: Uint8Array }): T {
  try {
    return JSON.parse(new TextDecoder().decode(f.bytes)) as T;
  } catch (e) {
    throw new TorchImportError(f.name, `not valid JSON (${(e as Error).message})`);
  }
}

const sameGraph = (a: Graph, b: Graph) => JSON.stringify(a) === JSON.stringify(b);

export function importTorchCheckpoint(files: TorchImportFiles): TorchImportResult {
  const gf = files['studio-graph.json'], qf = files['qparams.json'], wf = files['weights.safetensors'];
  const sg = parseJson<StudioGraphJson>(gf);
  if (sg.format !== STUDIO_GRAPH_FORMAT || !sg.graph || !sg.qconfig) throw new TorchImportError(gf.name, 'not a Quant Studio graph file (export-torch writes it)');
  const q = parseJson<TorchQParamsJson>(qf);
  if (q.format !== TORCH_FORMAT) throw new TorchImportError(qf.name, `not a Quant Studio qparams file (format ${JSON.stringify(q.format)})`);
  if (q.model !== sg.model) throw new TorchImportError(qf.name, `is of model ${q.model}, ${gf.name} of ${sg.model}`);
  const g = sg.graph;
  const names = torchModuleNames(g);
  for (const [id, m] of names) {
    if (sg.modules[id] !== undefined && sg.modules[id] !== m) throw new TorchImportError(gf.name, `node ${id} is module ${sg.modules[id]}, expected ${m}`);
  }
  const { tensors } = decodeSafetensors(wf.bytes, wf.name);
  // Parameters: every one of the graph, by its state_dict key, with the graph's shape.
  const params: HostParams = {};
  const keyOf = new Map<string, string>();
  for (const n of g.nodes) for (const [role, p] of Object.entries(n.params)) keyOf.set(p, `${names.get(n.id)}.${role}`);
  for (const spec of g.params) {
    const key = keyOf.get(spec.name);
    const t = key ? tensors[key] : undefined;
    if (!key || !t) throw new TorchImportError(wf.name, `has no tensor ${key ?? spec.name} (parameter ${spec.name} of ${g.name})`);
    if (t.dtype !== 'F32') throw new TorchImportError(wf.name, `${key} is ${t.dtype}, float32 expected`);
    if (t.shape.join(',') !== spec.shape.join(',')) throw new TorchImportError(wf.name, `${key} has shape [${t.shape}], the model needs [${spec.shape}]`);
    const data = t.data as Float32Array;
    if (!data.every(Number.isFinite)) throw new TorchImportError(wf.name, `${key} holds NaN or infinite values`);
    params[spec.name] = data;
  }
  // Activation sites: the plan of the graph and qconfig decides where they are; the file gives scale and range.
  const plan = prepare(g, sg.qconfig);
  const qsites: HostParams = {};
  for (const a of plan.acts) {
    const key = activationSiteKey(names.get(a.node)!);
    const s = q.activations?.[key];
    if (!s) throw new TorchImportError(qf.name, `has no activation site ${key} (node ${a.node})`);
    if (s.quant_min !== a.quantMin || s.quant_max !== a.quantMax) {
      throw new TorchImportError(qf.name, `${key} has range [${s.quant_min}, ${s.quant_max}], the qconfig [${a.quantMin}, ${a.quantMax}]`);
    }
    const scale = Math.fround(s.scale?.[0]);
    if (!(scale > 0) || !Number.isFinite(scale)) throw new TorchImportError(qf.name, `${key} has scale ${s.scale?.[0]}`);
    if (s.zero_point?.[0] !== 0) throw new TorchImportError(qf.name, `${key} has zero point ${s.zero_point?.[0]} (symmetric quantization needs 0)`);
    const lo = s.min_val?.[0], hi = s.max_val?.[0];
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi) throw new TorchImportError(qf.name, `${key} has running range [${lo}, ${hi}]`);
    qsites[`qsite:${a.node}:qparams`] = new Float32Array([scale, Math.fround(1 / scale), 0]);
    qsites[`qsite:${a.node}:running`] = new Float32Array([lo, hi]);
  }
  let weightScaleMismatches = 0;
  for (const w of plan.weights) {
    const key = weightSiteKey(names.get(w.node)!);
    const s = q.weights?.[key];
    if (!s) throw new TorchImportError(qf.name, `has no weight site ${key} (node ${w.node})`);
    if (s.quant_min !== w.quantMin || s.quant_max !== w.quantMax) {
      throw new TorchImportError(qf.name, `${key} has range [${s.quant_min}, ${s.quant_max}], the qconfig [${w.quantMin}, ${w.quantMax}]`);
    }
    const mine = weightScalesOf(params[w.param], w.channels, w.quantMin, w.quantMax, sg.qconfig.march);
    for (let c = 0; c < w.channels; c++) if (Math.fround(s.scale?.[c]) !== mine[c]) weightScaleMismatches++;
  }
  const checkpoint: QuantCheckpoint = {
    model: sg.model, stage: 'qat', graph: g, qconfig: sg.qconfig, params, qsites,
    meta: { normalization: sg.normalization, source: q.source ?? 'pytorch' },
  };
  return { checkpoint, weightScaleMismatches, activationSites: plan.acts.length };
}

export { sameGraph };
