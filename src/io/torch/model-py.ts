/**
 * model.py of a PyTorch export: templates/model.py with, per node of the fused graph, its module line(s) in
 * `__init__` and one line in `forward`, both from the op's `torch` part (src/ops, OpDef.torch; the only generated
 * Python: everything else is in templates/studio_quant.py).
 * Activation sites get `<module>.activation_post_process` (a StudioFakeQuantize), applied after the module like
 * torch.ao's eager prepare does (FloatFunctional applies its own inside add / cat). A conv / linear whose bias goes on
 * the int32 grid is linked to its input's site (studio_quant.link_bias_input), whose scale that grid uses.
 */
import { graphOutputs, outputNames, type Graph } from '../../graph/ir.ts';
import type { TorchCtx } from '../../ops/types.ts';
import MODEL_TEMPLATE from './templates/model.py';
import { activationSiteKey } from './torch-names.ts';
import { torchPartOf, TorchExportError, type TorchQParamsJson } from './qparams-json.ts';

const I2 = ' '.repeat(8);

export function generateModelPy(g: Graph, names: Map<string, string>, q: TorchQParamsJson): string {
  // The package's training and evaluation scripts take one output (class scores); refuse rather than drop the others.
  const outs = graphOutputs(g);
  if (outs.length > 1) throw new TorchExportError(`graph ${g.name} has ${outs.length} outputs (${outputNames(g).join(', ')}): the PyTorch QAT package takes one output so far`);
  const init: string[] = [];
  const fwd: string[] = [];
  const vars = new Map<string, string>();
  let k = 0;
  for (const n of g.nodes) {
    const m = names.get(n.id)!;
    const part = torchPartOf(n);
    const xs = n.inputs.map((i) => {
      const v = vars.get(i);
      if (!v) throw new TorchExportError(`graph ${g.name}: node ${n.id} reads ${i} before it is computed`);
      return v;
    });
    const c: TorchCtx = {
      m, xs, info: q.modules[m] ?? { node: n.id, op: n.op, params: {} },
      fail: (reason) => { throw new TorchExportError(`node ${n.id}: ${reason}`); },
    };
    init.push(...part.module(n, c));
    if (c.info.bias_input) init.push(`sq.link_bias_input(self.${m}, self.${c.info.bias_input})`);
    const site = activationSiteKey(m);
    let rhs = part.call(n, c);
    if (q.activations[site]) {
      init.push(`self.${site} = sq.fake_quant(acts["${site}"], qc)`);
      if (!part.ownsActivationQuant) rhs = `self.${site}(${rhs})`;
    }
    const v = `x${++k}`;
    fwd.push(`${v} = ${rhs}  # ${n.id}${n.attrs.fusedFrom ? ` (fused: ${n.attrs.fusedFrom.join(' + ')})` : ''}`);
    vars.set(n.id, v);
  }
  fwd.push(`return ${vars.get(g.output)}`);
  const outShape = g.nodes.find((n) => n.id === g.output)!.shape;
  return MODEL_TEMPLATE
    .replace('{{TITLE}}', `${q.model} (${q.stage})`)
    .replace('{{INPUT}}', `float32 [N, ${g.inputShape.join(', ')}], normalized as ${JSON.stringify(q.input.normalization)}`)
    .replace('{{OUTPUT}}', `float32 [N, ${outShape.join(', ')}]`)
    .replace('{{MARCH}}', q.qconfig.march)
    .replace('{{ROUNDING}}', q.qconfig.rounding)
    .replace('{{MODULES}}', init.map((l) => I2 + l).join('\n'))
    .replace('{{FORWARD}}', fwd.map((l) => I2 + l).join('\n'));
}
