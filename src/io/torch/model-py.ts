/**
 * model.py of a PyTorch export: templates/model.py with, per node of the fused graph, one module line in
 * `__init__` and one line in `forward` (the only generated Python; everything else is in templates/studio_quant.py).
 * Activation sites get `<module>.activation_post_process` (a StudioFakeQuantize), applied after the module like
 * torch.ao's eager prepare does (FloatFunctional applies its own inside add / cat).
 */
import type { Graph, GraphNode } from '../../graph/ir.ts';
import MODEL_TEMPLATE from './templates/model.py';
import { activationSiteKey } from './torch-names.ts';
import { TorchExportError, type TorchQParamsJson } from './qparams-json.ts';

const I2 = ' '.repeat(8);

const tuple = (a: number, b: number) => `(${a}, ${b})`;

/** The `self.<m> = ...` line(s) of one node. */
function moduleLines(n: GraphNode, m: string, q: TorchQParamsJson): string[] {
  const info = q.modules[m];
  switch (n.op) {
    case 'quant_stub': return [`self.${m} = QuantStub()`];
    case 'dequant_stub': return [`self.${m} = DeQuantStub()`];
    case 'conv2d': return [`self.${m} = sq.conv_module(weights["${m}.weight_fake_quant"], qc, mods["${m}"])`];
    case 'linear': return [`self.${m} = sq.linear_module(weights["${m}.weight_fake_quant"], qc, mods["${m}"])`];
    case 'batchnorm2d': return [`self.${m} = nn.BatchNorm2d(${info.num_features}, eps=${info.eps}, momentum=${info.momentum})`];
    case 'relu': return [`self.${m} = nn.ReLU()`];
    case 'relu6': return [`self.${m} = nn.ReLU6()`];
    case 'add': case 'concat': return [`self.${m} = FloatFunctional()`];
    case 'avgpool2d': case 'maxpool2d': {
      const p = info.pool!;
      const cls = n.op === 'avgpool2d' ? 'AvgPool2d' : 'MaxPool2d';
      const extra = `${p.ceilMode ? ', ceil_mode=True' : ''}${n.op === 'avgpool2d' && p.countIncludePad === false ? ', count_include_pad=False' : ''}`;
      return [`self.${m} = nn.${cls}(${tuple(p.kernelH, p.kernelW)}, stride=${tuple(p.strideH, p.strideW)}, padding=${tuple(p.padH, p.padW)}${extra})`];
    }
    case 'global_avgpool': return [`self.${m} = nn.AdaptiveAvgPool2d(1)`];
    // plain tensor arithmetic (call below); the module only holds the activation fake quant
    case 'mul': case 'sub': case 'affine': return [`self.${m} = nn.Identity()`];
    case 'flatten': case 'reshape': case 'identity': case 'input': case 'slice': case 'channel_shuffle': return [];
    case 'sigmoid': return [`self.${m} = nn.Sigmoid()`];
    case 'tanh': return [`self.${m} = nn.Tanh()`];
    case 'hardswish': return [`self.${m} = nn.Hardswish()`];
    case 'silu': return [`self.${m} = nn.SiLU()`];
    case 'leakyrelu': return [`self.${m} = nn.LeakyReLU(${pyFloat(n.attrs.actParams!.alpha)})`];
    case 'clip': return [`self.${m} = nn.Hardtanh(${pyFloat(n.attrs.actParams!.alpha)}, ${pyFloat(n.attrs.actParams!.beta)})`];
    case 'hardsigmoid': {
      const a = n.attrs.actParams!;
      if (Math.abs(a.alpha - 1 / 6) > 1e-6 || a.beta !== 0.5) throw new TorchExportError(`node ${n.id}: HardSigmoid(alpha ${a.alpha}, beta ${a.beta}) has no PyTorch module (nn.Hardsigmoid is alpha 1/6, beta 1/2)`);
      return [`self.${m} = nn.Hardsigmoid()`];
    }
    case 'prelu': throw new TorchExportError(`node ${n.id}: the PyTorch export does not write PReLU yet`);
    case 'transpose': return [];
    case 'matmul': return [`self.${m} = nn.Identity()`];
    case 'softmax': return [`self.${m} = nn.Softmax(dim=-1)`];
    case 'gelu': return [`self.${m} = nn.GELU(approximate='${n.attrs.gelu === 'tanh' ? 'tanh' : 'none'}')`];
    case 'layernorm': throw new TorchExportError(`node ${n.id}: the PyTorch export does not write LayerNorm yet`);
  }
}

/** A Python float literal (open clip bounds are stored as ±f32 max: written as infinities). */
const pyFloat = (v: number) => (Math.abs(v) >= 3e38 ? (v < 0 ? "-float('inf')" : "float('inf')") : String(v));

/** The right-hand side computing node `n` from its inputs' variables (before any activation fake quant). */
function call(n: GraphNode, m: string, xs: string[]): string {
  switch (n.op) {
    case 'conv2d': return `self.${m}(${xs.join(', ')})`;
    case 'add': return `self.${m}.add(${xs[0]}, ${xs[1]})`;
    case 'concat': return `self.${m}.cat([${xs.join(', ')}], dim=1)`;
    case 'global_avgpool': return `self.${m}(${xs[0]}).flatten(1)`;
    case 'flatten': return `${xs[0]}.flatten(1)`;
    case 'reshape': return `${xs[0]}.reshape(${xs[0]}.shape[0], ${n.shape.join(', ')})`;
    case 'identity': return xs[0];
    case 'mul': return `${xs[0]} * ${xs[1]}`;
    case 'sub': return `${xs[0]} - ${xs[1]}`;
    case 'affine': return `${xs[0]} * ${n.attrs.affine!.factor} + ${n.attrs.affine!.offset}`;
    case 'slice': return `${xs[0]}[:, ${n.attrs.slice!.start}:${n.attrs.slice!.end}]`;
    case 'transpose': return `${xs[0]}.permute(0, ${n.attrs.perm!.map((p) => p + 1).join(', ')})`;
    case 'matmul': return `torch.matmul(${xs[0]}, ${xs[1]}${n.attrs.matmul!.transB ? '.transpose(-2, -1)' : ''})`;
    case 'channel_shuffle': {
      const [C, ...rest] = n.shape;
      const g = n.attrs.groups!;
      return `${xs[0]}.reshape(${xs[0]}.shape[0], ${[g, C / g, ...rest].join(', ')}).transpose(1, 2).reshape(${xs[0]}.shape[0], ${n.shape.join(', ')})`;
    }
    default: return `self.${m}(${xs[0]})`;
  }
}

export function generateModelPy(g: Graph, names: Map<string, string>, q: TorchQParamsJson): string {
  const init: string[] = [];
  const fwd: string[] = [];
  const vars = new Map<string, string>();
  let k = 0;
  for (const n of g.nodes) {
    const m = names.get(n.id)!;
    if (n.op === 'input') {
      vars.set(n.id, 'x');
      continue;
    }
    const xs = n.inputs.map((i) => {
      const v = vars.get(i);
      if (!v) throw new TorchExportError(`graph ${g.name}: node ${n.id} reads ${i} before it is computed`);
      return v;
    });
    init.push(...moduleLines(n, m, q));
    const site = activationSiteKey(m);
    let rhs = call(n, m, xs);
    if (q.activations[site]) {
      init.push(`self.${site} = sq.fake_quant(acts["${site}"], qc)`);
      // FloatFunctional.add / cat apply their activation_post_process themselves
      if (n.op !== 'add' && n.op !== 'concat') rhs = `self.${site}(${rhs})`;
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
