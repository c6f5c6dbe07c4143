/**
 * calib / qat checkpoints: the fused graph itself (so any model, zoo or imported, reloads without
 * rebuilding), its parameters, the qconfig and every activation site's qparams and running range.
 */
import type { Graph } from '../graph/ir.ts';
import type { HostParams } from '../nn/params.ts';
import { decodeCheckpoint, encodeCheckpoint, CheckpointError } from '../io/checkpoint.ts';
import type { QConfig } from './qconfig.ts';

export interface QuantCheckpoint {
  model: string;
  stage: 'calib' | 'qat';
  graph: Graph;
  qconfig: QConfig;
  params: HostParams;
  qsites: HostParams;
  meta: Record<string, unknown>;
}

export function encodeQuantCheckpoint(c: QuantCheckpoint): Uint8Array {
  const shapes: Record<string, number[]> = {};
  for (const p of c.graph.params) shapes[p.name] = p.shape;
  return encodeCheckpoint({
    model: c.model, stage: c.stage, meta: { ...c.meta, graph: c.graph, qconfig: c.qconfig },
    params: { ...c.params, ...c.qsites }, shapes,
  });
}

export function decodeQuantCheckpoint(bytes: Uint8Array, file: string): QuantCheckpoint {
  const c = decodeCheckpoint(bytes, file);
  if (c.stage !== 'calib' && c.stage !== 'qat') throw new CheckpointError(file, `a ${c.stage} checkpoint, not calib or qat`);
  const { graph, qconfig, ...meta } = c.meta as { graph?: Graph; qconfig?: QConfig };
  if (!graph || !qconfig) throw new CheckpointError(file, 'missing the fused graph or the qconfig');
  const params: HostParams = {};
  const qsites: HostParams = {};
  for (const [k, v] of Object.entries(c.params)) (k.startsWith('qsite:') ? qsites : params)[k] = v;
  return { model: c.model, stage: c.stage, graph, qconfig, params, qsites, meta };
}
