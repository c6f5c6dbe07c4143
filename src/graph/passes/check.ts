/**
 * What fusion left behind and what will stay float, for the UI and the CLI:
 *  - `unfused`: operations that follow a conv / linear (or feed an add) but were not fused, with the
 *    reason (a value with two uses, an activation before the add, a BN after a non-conv, ...);
 *  - `float`: operations that stay in float: outside the QuantStub…DeQuantStub region, or with no
 *    quantized implementation.
 * Run it on the fused graph (on an unfused graph every Conv+BN shows up as a pending fusion).
 */
import { graphOutputs, type Graph, type GraphNode, type OpType } from '../ir.ts';
import { hasIntImpl, OP_TYPES, opDef } from '../../ops/registry.ts';
import { consumersOf, useCounts } from './util.ts';

export { validateGraph } from './util.ts';

export interface UnfusedOp {
  /** The nodes that could have formed one fused node, producer first. */
  nodes: string[];
  /** The pattern they would have formed, e.g. 'conv2d+batchnorm2d'. */
  pattern: string;
  reason: string;
}

export interface FloatOp {
  node: string;
  op: OpType;
  reason: string;
}

export interface FusionReport {
  unfused: UnfusedOp[];
  float: FloatOp[];
}

/**
 * Ops with a quantized (integer) implementation, from the operator registry (an OpDef whose `int` part lowers it;
 * region boundaries excluded). Anything else inside the quantized region stays float.
 */
export const QUANTIZED_OPS: ReadonlySet<OpType> = new Set<OpType>(OP_TYPES.filter((t) => !opDef(t).quant.region && hasIntImpl(t)));

const actName = (op: string): string => opDef(op).view.label;
const isAnchor = (n: GraphNode): boolean => !!opDef(n.op).fusion.anchor;
const isAct = (n: GraphNode): boolean => !!opDef(n.op).fusion.act;
const anchorTakesAdd = (n: GraphNode): boolean => !!opDef(n.op).fusion.anchor?.add;

export function fusionReport(g: Graph): FusionReport {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const uses = useCounts(g);
  const unfused: UnfusedOp[] = [];

  /** Why `p`'s value can't be folded into its consumer `n`, or null if it could (a missed fusion). */
  const usesReason = (p: GraphNode, n: GraphNode): string | null => {
    const others = consumersOf(g, p.id).filter((c) => c !== n).map((c) => c.id);
    if (graphOutputs(g).includes(p.id)) others.push('a graph output');
    const edges = uses.get(p.id) ?? 0;
    if (others.length) return `${p.id} output has ${edges} uses (also ${others.join(', ')}), so it can't be folded into one node`;
    if (edges > 1) return `${p.id} output is read ${edges} times by ${n.id}`;
    return null;
  };

  for (const n of g.nodes) {
    const p = byId.get(n.inputs[0]);
    if (opDef(n.op).fusion.bn && p) {
      if (!isAnchor(p)) {
        unfused.push({ nodes: [n.id], pattern: n.op, reason: `${n.id} follows a ${p.op} (${p.id}), not a conv or linear: it stays a standalone batch norm` });
        continue;
      }
      const pattern = `${p.op}+${n.op}`;
      let reason = usesReason(p, n);
      if (!reason && (p.attrs.act || p.attrs.addInput)) reason = `${p.id} already ends in a fused ${p.attrs.act ?? 'add'}; BN after it can't fold into the weights`;
      unfused.push({ nodes: [p.id, n.id], pattern, reason: reason ?? 'matches but was not fused (run fuse())' });
    } else if (isAct(n) && p) {
      if (isAnchor(p)) {
        let reason = usesReason(p, n);
        if (!reason && p.attrs.act) reason = `${p.id} already has a fused ${p.attrs.act}`;
        unfused.push({ nodes: [p.id, n.id], pattern: `${p.op}+${n.op}`, reason: reason ?? 'matches but was not fused (run fuse())' });
      } else if (opDef(p.op).fusion.bn || opDef(p.op).fusion.add) {
        unfused.push({ nodes: [p.id, n.id], pattern: `${p.op}+${n.op}`, reason: `${n.id} follows ${p.id}, a ${p.op} that was not fused into a conv` });
      }
    } else if (opDef(n.op).fusion.add) {
      const why: string[] = [];
      let fusable = false;
      for (const id of n.inputs) {
        const q = byId.get(id);
        if (!q) continue;
        if (anchorTakesAdd(q)) {
          const r = usesReason(q, n);
          if (r) why.push(r);
          else if (q.attrs.act) why.push(`${q.id} already ends in its ${q.attrs.act} (Conv+${actName(q.attrs.act)}+Add): the add must come before the activation to fuse`);
          else if (q.attrs.addInput) why.push(`${q.id} already has a fused add`);
          else fusable = true;
        } else if (isAct(q) && byId.get(q.inputs[0]) && anchorTakesAdd(byId.get(q.inputs[0])!)) {
          why.push(`${q.id} is a ${q.op} after a conv (Conv+${actName(q.op)}+Add): the add must come before the activation to fuse`);
        } else {
          why.push(`${q.id} is a ${q.op}, not a conv`);
        }
      }
      const reason = fusable ? 'matches but was not fused (run fuse())' : why.join('; ');
      unfused.push({ nodes: [...n.inputs, n.id], pattern: 'conv2d+add', reason });
    }
  }
  return { unfused, float: floatOps(g) };
}

/**
 * Ops that stay float: outside the QuantStub…DeQuantStub region, without a quantized implementation, or reading
 * the float output of such an op. An op whose output is an activation site (quant.output 'site') quantizes its
 * output again, so what follows it is integer again.
 */
export function floatOps(g: Graph): FloatOp[] {
  const quantized = new Map<string, boolean>(); // inside the region
  const integer = new Map<string, boolean>(); // an integer value in the simulator
  const out: FloatOp[] = [];
  for (const n of g.nodes) {
    const ins = n.inputs.map((i) => quantized.get(i) ?? false);
    const def = opDef(n.op);
    const region = def.quant.region;
    let q: boolean;
    if (region === 'enter' || region === 'const') q = true;
    else if (region === 'leave') q = false;
    else q = ins.length > 0 && ins.every(Boolean);
    quantized.set(n.id, q);
    integer.set(n.id, q);
    if (region) continue;
    if (!q) {
      const reason = ins.some(Boolean)
        ? 'mixes quantized and float inputs (a QuantStub or DeQuantStub is missing)'
        : 'outside the QuantStub…DeQuantStub region';
      out.push({ node: n.id, op: n.op, reason });
    } else if (!QUANTIZED_OPS.has(n.op)) {
      out.push({ node: n.id, op: n.op, reason: `${n.op} has no quantized implementation` });
      integer.set(n.id, false);
    } else {
      const floatIns = n.inputs.filter((i) => integer.get(i) === false);
      if (floatIns.length) {
        out.push({ node: n.id, op: n.op, reason: `reads ${floatIns.join(', ')}, which stays float` });
        integer.set(n.id, def.quant.output === 'site');
      }
    }
  }
  return out;
}
