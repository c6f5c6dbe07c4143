/**
 * model.py of a PyTorch export: templates/model.py with, per node of the fused graph, its module line(s) in
 * `__init__` and one line in `forward`, both from the op's `torch` part (src/ops, OpDef.torch; the only generated
 * Python: everything else is in templates/studio_quant.py).
 * Activation sites get `<module>.activation_post_process` (a StudioFakeQuantize), applied after the module like
 * torch.ao's eager prepare does (FloatFunctional applies its own inside add / cat). A conv / linear whose bias goes on
 * the int32 grid is linked to its input's site (studio_quant.link_bias_input), whose scale that grid uses. A model
 * with several outputs returns them as a tuple in the model's order.
 */
import { graphOutputs, outputNames, type Graph } from '../../graph/ir.ts';
import type { TorchCtx } from '../../ops/types.ts';
import MODEL_TEMPLATE from './templates/model.py';
import { activationSiteKey } from './torch-names.ts';
import { torchPartOf, TorchExportError, type TorchQParamsJson } from './qparams-json.ts';

const I2 = ' '.repeat(8);

export function generateModelPy(g: Graph, names: Map<string, string>, q: TorchQParamsJson): string {
  const outs = graphOutputs(g), outNames = outputNames(g);
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
      m, xs, batch: 'x.shape[0]', info: q.modules[m] ?? { node: n.id, op: n.op, params: {} },
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
  // several outputs: a tuple in the model's order (qparams.json "outputs" describes each)
  fwd.push(`return ${outs.length > 1 ? `(${outs.map((id) => vars.get(id)).join(', ')})` : vars.get(g.output)}`);
  const shapeOf = (id: string) => `float32 [N, ${g.nodes.find((n) => n.id === id)!.shape.join(', ')}]`;
  const output = outs.length > 1 ? `a tuple of ${outs.length}: ${outs.map((id, k) => `${outNames[k]} ${shapeOf(id)}`).join('; ')}` : shapeOf(g.output);
  return MODEL_TEMPLATE
    .replace('{{TITLE}}', `${q.model} (${q.stage})`)
    .replace('{{INPUT}}', `float32 [N, ${g.inputShape.join(', ')}], normalized as ${JSON.stringify(q.input.normalization)}`)
    .replace('{{OUTPUT}}', output)
    .replace('{{MARCH}}', q.qconfig.march)
    .replace('{{ROUNDING}}', q.qconfig.rounding)
    .replace('{{MODULES}}', init.map((l) => I2 + l).join('\n'))
    .replace('{{FORWARD}}', fwd.map((l) => I2 + l).join('\n'));
}
