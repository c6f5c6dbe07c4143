/**
 * What the node details show beyond the op: its attributes (kernel, stride, pads, dilation, groups; pool window;
 * fused activation), its weight tensors with their shapes, and where the shown scale comes from (the stage whose
 * model uses it and the observer that produced it, or the node's override). Pure.
 */
import type { Graph, GraphNode } from '../../../graph/ir.ts';
import { qconfigTemplate } from '../../../quant/qconfig.ts';
import type { RunRecord } from '../../store/runs-slice.ts';

export interface Fact { key: string; value: string }

export function attributesOf(n: GraphNode, g: Graph): Fact[] {
  const out: Fact[] = [];
  const w = n.params.weight ? g.params.find((p) => p.name === n.params.weight) : undefined;
  const c = n.attrs.conv;
  if (c) {
    if (w && w.shape.length === 4) out.push({ key: 'kernel', value: `${w.shape[2]}×${w.shape[3]}` });
    out.push({ key: 'stride', value: `${c.strideH}×${c.strideW}` }, { key: 'pads', value: `${c.padH}, ${c.padW}` });
    if (c.dilationH !== 1 || c.dilationW !== 1) out.push({ key: 'dilation', value: `${c.dilationH}×${c.dilationW}` });
    out.push({ key: 'groups', value: String(c.groups) });
  }
  const p = n.attrs.pool;
  if (p) out.push({ key: 'window', value: `${p.kernelH}×${p.kernelW}` }, { key: 'stride', value: `${p.strideH}×${p.strideW}` }, { key: 'pads', value: `${p.padH}, ${p.padW}` });
  if (n.attrs.act) out.push({ key: 'activation', value: String(n.attrs.act) });
  if (n.attrs.addInput) out.push({ key: 'adds', value: n.inputs[1] ?? 'a second input' });
  if (n.attrs.eps !== undefined) out.push({ key: 'eps', value: String(n.attrs.eps) });
  if (n.attrs.shape) out.push({ key: 'target shape', value: n.attrs.shape.join('×') });
  if (n.attrs.slice) out.push({ key: 'channels', value: `${n.attrs.slice.start} to ${n.attrs.slice.end - 1}` });
  if (n.attrs.groups) out.push({ key: 'shuffle groups', value: String(n.attrs.groups) });
  if (n.attrs.outputPadding) out.push({ key: 'output padding', value: n.attrs.outputPadding.join(', ') });
  const r = n.attrs.resize;
  if (r) {
    out.push({ key: 'output size', value: `${r.outH}×${r.outW}` }, { key: r.bySizes ? 'scale (from the sizes)' : 'scale', value: `${r.scaleH}×${r.scaleW}` });
    out.push({ key: 'coordinates', value: r.coord });
    if (r.mode === 'nearest') out.push({ key: 'rounding', value: r.nearest });
  }
  return out;
}

export function weightsOf(n: GraphNode, g: Graph): { role: string; name: string; shape: number[] }[] {
  return Object.entries(n.params).flatMap(([role, name]) => {
    const p = g.params.find((x) => x.name === name);
    return p ? [{ role, name, shape: p.shape }] : [];
  });
}

/**
 * Where the activation scale shown comes from: the QAT model's when there is one (QAT keeps observing while it
 * trains, starting from the calibration), else the calibration's; the observer from the run that made it (the
 * template's own when the run did not name one), or the node's override.
 */
export function scaleSourceOf(nodeId: string, stage: 'qat' | 'calib' | null, runs: RunRecord[]): string | null {
  if (!stage) return null;
  const run = [...runs].reverse().find((r) => r.kind === stage);
  if (!run) return stage === 'qat' ? 'QAT model' : 'calibrated model';
  const override = run.quant.overrides.find((o) => o.match === nodeId && o.activation);
  let observer = run.quant.observer;
  if (!observer) {
    try {
      observer = qconfigTemplate(run.quant.template, { march: run.quant.march }).activation.observer;
    } catch {
      observer = 'the template\'s observer';
    }
  }
  const how = override ? `the override of ${nodeId}` : `observer ${observer} (${run.quant.template})`;
  return stage === 'qat' ? `QAT model (${run.name}): observed during QAT from the calibration; ${how}` : `calibrated model (${run.name}): ${how}`;
}

export type Stage = 'calib' | 'qat';
type Scales = { activations: Record<string, number>; weights: Record<string, number[]> };

/**
 * The scales of one stage for a node (activation, per-channel weights) and the histogram's clip range at that
 * stage's activation scale: the calibration's clip scaled by stageScale / calibScale (the same integer range, so
 * the histogram and the node panel always show the same scale).
 */
export function stageScalesOf(nodeId: string, weightParam: string | null, scales: Scales | null, calibScale: number | undefined, calibClip: [number, number] | null):
  { act: number | undefined; weights: number[] | undefined; clip: [number, number] | null } {
  const act = scales?.activations[nodeId];
  const weights = weightParam ? scales?.weights[weightParam] : undefined;
  let clip: [number, number] | null = null;
  if (calibClip && act !== undefined && calibScale) clip = [calibClip[0] * (act / calibScale), calibClip[1] * (act / calibScale)];
  return { act, weights, clip };
}

/** The observer behind a run's weight scales (the template's per-channel one). */
export function weightSourceOf(run: RunRecord | undefined): string {
  if (!run) return 'per-channel weight observer';
  try {
    const w = qconfigTemplate(run.quant.template, { march: run.quant.march }).weight;
    return `observer ${w.observer} (${w.dtype}, ${run.quant.template})`;
  } catch {
    return `the weight observer of ${run.quant.template}`;
  }
}
