/**
 * Parameters and buffers of a graph on a backend: initialised with PyTorch's defaults from a seed,
 * readable to the host for checkpoints, and released on dispose.
 */
import type { Backend, BTensor } from '../engine/backend.ts';
import { Var } from '../engine/autograd.ts';
import type { Graph, ParamSpec } from '../graph/ir.ts';
import { createRng } from '../data/rng.ts';

export type HostParams = Record<string, Float32Array>;

export function initParam(spec: ParamSpec, rand: () => number): Float32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  switch (spec.init) {
    case 'ones': out.fill(1); break;
    case 'zeros': break;
    case 'kaiming_uniform':
    case 'bias_uniform': {
      // kaiming_uniform_(a=sqrt(5)) and the bias init both give U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
      const bound = 1 / Math.sqrt(spec.fanIn ?? 1);
      for (let i = 0; i < n; i++) out[i] = (rand() * 2 - 1) * bound;
      break;
    }
  }
  return out;
}

export function initHostParams(graph: Graph, seed: number): HostParams {
  const rng = createRng(seed);
  const rand = () => rng.float();
  const out: HostParams = {};
  for (const p of graph.params) out[p.name] = initParam(p, rand);
  return out;
}

export class ParamStore {
  readonly vars = new Map<string, Var>();
  readonly buffers = new Map<string, BTensor>();

  constructor(readonly be: Backend, readonly graph: Graph, host: HostParams) {
    for (const p of graph.params) {
      const data = host[p.name];
      if (!data) throw new Error(`missing parameter ${p.name}`);
      const expected = p.shape.reduce((a, b) => a * b, 1);
      if (data.length !== expected) throw new Error(`parameter ${p.name}: ${data.length} values, shape [${p.shape}] needs ${expected}`);
      const t = be.upload(data, p.shape);
      if (p.kind === 'buffer') this.buffers.set(p.name, t);
      else this.vars.set(p.name, new Var(t, true, p.name));
    }
  }

  param(name: string): Var {
    const v = this.vars.get(name);
    if (!v) throw new Error(`no parameter ${name}`);
    return v;
  }

  buffer(name: string): BTensor {
    const t = this.buffers.get(name);
    if (!t) throw new Error(`no buffer ${name}`);
    return t;
  }

  zeroGrad(): void {
    for (const v of this.vars.values()) {
      if (v.grad) this.be.release(v.grad);
      v.grad = null;
    }
  }

  async toHost(): Promise<HostParams> {
    const out: HostParams = {};
    for (const [name, v] of this.vars) out[name] = await this.be.read(v.value);
    for (const [name, t] of this.buffers) out[name] = await this.be.read(t);
    return out;
  }

  dispose(): void {
    this.zeroGrad();
    for (const v of this.vars.values()) this.be.release(v.value);
    for (const t of this.buffers.values()) this.be.release(t);
    this.vars.clear();
    this.buffers.clear();
  }
}
