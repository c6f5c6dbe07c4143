/** Small graph queries shared by the passes. */
import { graphOutputs, type Graph, type GraphNode } from '../ir.ts';
import { opDef } from '../../ops/registry.ts';

/** Input edges that read each value, plus one for each graph output. */
export function useCounts(g: Graph): Map<string, number> {
  const uses = new Map<string, number>();
  for (const n of g.nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  for (const o of graphOutputs(g)) uses.set(o, (uses.get(o) ?? 0) + 1);
  return uses;
}

/** Nodes that read `id` (each once, however many of its inputs it is). */
export function consumersOf(g: Graph, id: string): GraphNode[] {
  return g.nodes.filter((n) => n.inputs.includes(id));
}

/**
 * Throws unless the graph is well formed: unique ids, every input computed by an earlier node, the
 * output a node, every op registered (src/ops/registry.ts), every parameter reference declared, and a fused
 * node's extra input only with addInput.
 */
export function validateGraph(g: Graph): void {
  const seen = new Set<string>();
  const params = new Set(g.params.map((p) => p.name));
  for (const n of g.nodes) {
    if (seen.has(n.id)) throw new Error(`graph ${g.name}: duplicate node ${n.id}`);
    for (const i of n.inputs) {
      if (!seen.has(i)) throw new Error(`graph ${g.name}: node ${n.id} reads ${i} before it is computed`);
    }
    for (const [role, name] of Object.entries(n.params)) {
      if (!params.has(name)) throw new Error(`graph ${g.name}: node ${n.id} ${role} refers to undeclared parameter ${name}`);
    }
    if (opDef(n.op).fusion.anchor && n.inputs.length !== (n.attrs.addInput ? 2 : 1)) {
      throw new Error(`graph ${g.name}: node ${n.id} has ${n.inputs.length} inputs (addInput: ${!!n.attrs.addInput})`);
    }
    seen.add(n.id);
  }
  if (!seen.has(g.output)) throw new Error(`graph ${g.name}: output ${g.output} is not a node`);
  if (g.outputs) {
    if (g.outputs[0] !== g.output) throw new Error(`graph ${g.name}: outputs must start with output ${g.output}, got ${g.outputs[0]}`);
    for (const o of g.outputs) if (!seen.has(o)) throw new Error(`graph ${g.name}: output ${o} is not a node`);
    if (new Set(g.outputs).size !== g.outputs.length) throw new Error(`graph ${g.name}: an output is listed twice`);
  }
}
