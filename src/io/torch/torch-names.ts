/**
 * PyTorch names of the fused graph's nodes: one module attribute per node (its id made a Python identifier), the
 * state_dict keys of its parameters and of its fake-quant sites. The one place both the export and the import take
 * them from.
 */
import type { Graph } from '../../graph/ir.ts';

/** Attributes of torch.nn.Module a submodule must not shadow. */
const RESERVED = new Set([
  'forward', 'train', 'eval', 'training', 'type', 'float', 'double', 'half', 'bfloat16', 'cuda', 'cpu', 'xpu', 'ipu', 'to',
  'apply', 'modules', 'children', 'parameters', 'buffers', 'state_dict', 'load_state_dict', 'zero_grad', 'requires_grad_',
  'share_memory', 'extra_repr', 'named_modules', 'named_children', 'named_parameters', 'named_buffers', 'register_buffer',
  'register_parameter', 'register_module', 'add_module', 'get_submodule', 'get_parameter', 'get_buffer', 'dump_patches',
  'get_extra_state', 'set_extra_state', 'x', 'q', 'qc', 'mods', 'acts', 'weights', 'self',
  // Python keywords
  'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else', 'except', 'finally',
  'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try',
  'while', 'with', 'yield', 'None', 'True', 'False',
]);

/** Node id -> module attribute name, unique within the graph. */
export function torchModuleNames(g: Graph): Map<string, string> {
  const names = new Map<string, string>();
  const used = new Set<string>();
  for (const n of g.nodes) {
    let base = n.id.replace(/[^A-Za-z0-9_]/g, '_');
    if (!/^[A-Za-z_]/.test(base) || RESERVED.has(base)) base = `m_${base}`;
    let name = base;
    for (let k = 1; used.has(name); k++) name = `${base}_${k}`;
    used.add(name);
    names.set(n.id, name);
  }
  return names;
}

export const activationSiteKey = (module: string): string => `${module}.activation_post_process`;
export const weightSiteKey = (module: string): string => `${module}.weight_fake_quant`;

/** A folder / file name for an export: the model name made safe for file systems, and the stage. */
export function torchFolderName(model: string, stage: string): string {
  return `${model.replace(/[^A-Za-z0-9._-]+/g, '_')}-${stage}-torch`;
}
