/** A small builder that writes zoo models as graphs, computing shapes as it goes. */
import { convParams, outSize, poolParams, type Conv2dParams } from '../engine/backend.ts';
import { opDef } from '../ops/registry.ts';
import type { Graph, GraphNode, NodeAttrs, OpType, ParamSpec } from './ir.ts';

export interface ConvOpts { stride?: number; padding?: number; dilation?: number; groups?: number; bias?: boolean }

export class GraphBuilder {
  private nodes: GraphNode[] = [];
  private params: ParamSpec[] = [];
  private scope: string[] = [];

  constructor(readonly name: string, readonly inputShape: number[], readonly numClasses: number) {
    this.add('input', 'input', [], {}, {}, [...inputShape]);
  }

  shapeOf(id: string): number[] {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no value ${id}`);
    return n.shape;
  }

  /** Runs `f` with node names and namespaces prefixed by `name`. */
  within<T>(name: string, f: () => T): T {
    this.scope.push(name);
    try {
      return f();
    } finally {
      this.scope.pop();
    }
  }

  private qualified(local: string): string {
    return [...this.scope, local].join('.');
  }

  private add(id: string, op: OpType, inputs: string[], attrs: NodeAttrs, params: Record<string, string>, shape: number[]): string {
    if (this.nodes.some((n) => n.id === id)) throw new Error(`duplicate node ${id}`);
    this.nodes.push({ id, op, inputs, attrs, params, namespace: this.scope.join('/'), shape });
    return id;
  }

  private param(name: string, shape: number[], init: ParamSpec['init'], kind: ParamSpec['kind'] = 'param', fanIn?: number): string {
    this.params.push({ name, shape, init, kind, fanIn });
    return name;
  }

  /** A parameterless node; its shape from the op's inferShape (src/ops) unless given. */
  op(local: string, op: OpType, inputs: string[], shape?: number[], attrs: NodeAttrs = {}): string {
    const id = this.qualified(local);
    const node: GraphNode = { id, op, inputs, attrs, params: {}, namespace: '', shape: shape ?? [] };
    const inferred = shape ?? opDef(op).inferShape(node, inputs.map((x) => this.shapeOf(x)), () => {
      throw new Error(`${id}: ${op} needs parameters (use its own builder method)`);
    });
    return this.add(id, op, inputs, attrs, {}, inferred);
  }

  conv(local: string, x: string, outC: number, k: number, o: ConvOpts = {}): string {
    const [c, h, w] = this.shapeOf(x);
    const p: Conv2dParams = convParams({ stride: o.stride, padding: o.padding, dilation: o.dilation, groups: o.groups });
    if (c % p.groups || outC % p.groups) throw new Error(`${local}: channels ${c}->${outC} not divisible by groups ${p.groups}`);
    const id = this.qualified(local);
    const fanIn = (c / p.groups) * k * k;
    const params: Record<string, string> = { weight: this.param(`${id}.weight`, [outC, c / p.groups, k, k], 'kaiming_uniform', 'param', fanIn) };
    if (o.bias) params.bias = this.param(`${id}.bias`, [outC], 'bias_uniform', 'param', fanIn);
    const shape = [outC, outSize(h, k, p.strideH, p.padH, p.dilationH), outSize(w, k, p.strideW, p.padW, p.dilationW)];
    return this.add(id, 'conv2d', [x], { conv: p }, params, shape);
  }

  bn(local: string, x: string): string {
    const c = this.shapeOf(x)[0];
    const id = this.qualified(local);
    const params = {
      weight: this.param(`${id}.weight`, [c], 'ones'),
      bias: this.param(`${id}.bias`, [c], 'zeros'),
      running_mean: this.param(`${id}.running_mean`, [c], 'zeros', 'buffer'),
      running_var: this.param(`${id}.running_var`, [c], 'ones', 'buffer'),
    };
    return this.add(id, 'batchnorm2d', [x], { eps: 1e-5, momentum: 0.1 }, params, [...this.shapeOf(x)]);
  }

  linear(local: string, x: string, outF: number): string {
    const inF = this.shapeOf(x)[0];
    const id = this.qualified(local);
    const params = {
      weight: this.param(`${id}.weight`, [outF, inF], 'kaiming_uniform', 'param', inF),
      bias: this.param(`${id}.bias`, [outF], 'bias_uniform', 'param', inF),
    };
    return this.add(id, 'linear', [x], {}, params, [outF]);
  }

  relu(local: string, x: string): string { return this.op(local, 'relu', [x]); }
  relu6(local: string, x: string): string { return this.op(local, 'relu6', [x]); }
  addValues(local: string, a: string, b: string): string {
    const sa = this.shapeOf(a), sb = this.shapeOf(b);
    if (sa.join() !== sb.join()) throw new Error(`${local}: add of [${sa}] and [${sb}]`);
    return this.op(local, 'add', [a, b]);
  }
  flatten(local: string, x: string): string { return this.op(local, 'flatten', [x]); }
  globalAvgPool(local: string, x: string): string { return this.op(local, 'global_avgpool', [x]); }
  maxPool(local: string, x: string, k: number, stride = k, padding = 0): string {
    return this.op(local, 'maxpool2d', [x], undefined, { pool: poolParams(k, stride, padding) });
  }
  avgPool(local: string, x: string, k: number, stride = k, padding = 0): string {
    return this.op(local, 'avgpool2d', [x], undefined, { pool: poolParams(k, stride, padding) });
  }
  concat(local: string, xs: string[]): string { return this.op(local, 'concat', xs); }
  quantStub(x: string): string { return this.op('quant', 'quant_stub', [x]); }
  dequantStub(x: string): string { return this.op('dequant', 'dequant_stub', [x]); }

  /** `more`: further outputs after the first (a model with several outputs). */
  build(output: string, more: string[] = []): Graph {
    return {
      name: this.name, inputShape: [...this.inputShape], numClasses: this.numClasses,
      nodes: this.nodes, output, ...(more.length ? { outputs: [output, ...more] } : {}), params: this.params,
    };
  }
}
