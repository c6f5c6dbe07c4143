/**
 * Our graph IR (src/graph/ir.ts) run by TensorFlow.js, NHWC (TF.js's native layout), so the peer trains exactly the
 * architecture of src/models/zoo.ts; and its training step. Portable: the Node bench (tfjs-peer.ts) and the browser
 * bench (bench/browser/) both use it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Graph, GraphNode } from '../src/graph/ir.ts';
import type { HostParams } from '../src/nn/params.ts';

interface TfParam { v: tf.Variable; kind: 'conv' | 'dw' | 'linear' | 'vec' }

export class TfjsModel {
  readonly vars = new Map<string, tf.Variable>();
  readonly buffers = new Map<string, tf.Variable>();

  private static instances = 0;

  constructor(readonly graph: Graph, host: HostParams) {
    TfjsModel.instances++;
    const convWeights = new Map<string, GraphNode>();
    for (const n of graph.nodes) if (n.op === 'conv2d') convWeights.set(n.params.weight, n);
    const linearWeights = new Set(graph.nodes.filter((n) => n.op === 'linear').map((n) => n.params.weight));
    for (const p of graph.params) {
      const data = host[p.name];
      let t: tf.Tensor;
      const conv = convWeights.get(p.name);
      if (conv) {
        const [o, ig, kh, kw] = p.shape;
        const groups = conv.attrs.conv!.groups;
        const oihw = tf.tensor4d(data, [o, ig, kh, kw]);
        if (groups === 1) t = tf.transpose(oihw, [2, 3, 1, 0]); // HWIO
        else if (groups === o && ig === 1) t = tf.transpose(oihw, [2, 3, 0, 1]); // [kh, kw, C, 1]
        else throw new Error(`TF.js peer: grouped conv (groups ${groups}) is not depthwise`);
        oihw.dispose();
      } else if (linearWeights.has(p.name)) {
        const w = tf.tensor2d(data, p.shape as [number, number]);
        t = tf.transpose(w); // [in, out]
        w.dispose();
      } else {
        t = tf.tensor(data, p.shape);
      }
      const v = tf.variable(t, p.kind === 'param', `${graph.name}/${p.name}#${TfjsModel.instances}`);
      t.dispose();
      (p.kind === 'param' ? this.vars : this.buffers).set(p.name, v);
    }
  }

  private param(n: GraphNode, role: string): tf.Variable {
    const v = this.vars.get(n.params[role]) ?? this.buffers.get(n.params[role]);
    if (!v) throw new Error(`TF.js peer: no parameter ${n.params[role]}`);
    return v;
  }

  /** Forward in training mode (batch statistics; running statistics updated as our engine does). */
  forward(x: tf.Tensor4D): tf.Tensor2D {
    const values = new Map<string, tf.Tensor>();
    const get = (id: string) => values.get(id)!;
    for (const n of this.graph.nodes) {
      const xs = n.inputs.map(get);
      let y: tf.Tensor;
      switch (n.op) {
        case 'input': y = x; break;
        case 'quant_stub': case 'dequant_stub': case 'identity': y = xs[0]; break;
        case 'conv2d': {
          const c = n.attrs.conv!;
          if (c.dilationH !== 1 || c.dilationW !== 1 || c.padH !== c.padW) throw new Error('TF.js peer: unsupported conv params');
          const w = this.param(n, 'weight');
          const x4 = xs[0] as tf.Tensor4D;
          y = c.groups === 1
            ? tf.conv2d(x4, w as tf.Tensor4D, [c.strideH, c.strideW], c.padH)
            : tf.depthwiseConv2d(x4, w as tf.Tensor4D, [c.strideH, c.strideW], c.padH);
          if (n.params.bias) y = tf.add(y, this.param(n, 'bias'));
          break;
        }
        case 'batchnorm2d': {
          const eps = n.attrs.eps ?? 1e-5, mom = n.attrs.momentum ?? 0.1;
          const { mean, variance } = tf.moments(xs[0], [0, 1, 2]);
          const rm = this.param(n, 'running_mean'), rv = this.param(n, 'running_var');
          const m = xs[0].size / xs[0].shape[3]!;
          // Same bookkeeping as our batchNormFn: EMA of mean and of the unbiased variance (assign is not
          // recorded on the gradient tape).
          tf.tidy(() => {
            rm.assign(tf.add(tf.mul(rm, 1 - mom), tf.mul(mean, mom)));
            rv.assign(tf.add(tf.mul(rv, 1 - mom), tf.mul(variance, mom * (m > 1 ? m / (m - 1) : 1))));
          });
          y = tf.batchNorm(xs[0], mean, variance, this.param(n, 'bias'), this.param(n, 'weight'), eps);
          break;
        }
        case 'linear': {
          y = tf.matMul(xs[0] as tf.Tensor2D, this.param(n, 'weight') as tf.Tensor2D);
          if (n.params.bias) y = tf.add(y, this.param(n, 'bias'));
          break;
        }
        case 'relu': y = tf.relu(xs[0]); break;
        case 'relu6': y = tf.relu6(xs[0]); break;
        case 'add': y = tf.add(xs[0], xs[1]); break;
        case 'global_avgpool': y = tf.mean(xs[0], [1, 2]); break;
        case 'flatten': {
          // NHWC -> NCHW order before flattening, so the linear layer sees our element order.
          const t = xs[0].rank === 4 ? tf.transpose(xs[0], [0, 3, 1, 2]) : xs[0];
          y = tf.reshape(t, [t.shape[0], -1]);
          break;
        }
        case 'avgpool2d': case 'maxpool2d': {
          const p = n.attrs.pool!;
          const pad = p.padH === 0 && p.padW === 0 ? 'valid' : p.padH;
          y = n.op === 'avgpool2d'
            ? tf.avgPool(xs[0] as tf.Tensor4D, [p.kernelH, p.kernelW], [p.strideH, p.strideW], pad)
            : tf.maxPool(xs[0] as tf.Tensor4D, [p.kernelH, p.kernelW], [p.strideH, p.strideW], pad);
          break;
        }
        default: throw new Error(`TF.js peer: op ${n.op} not mirrored (node ${n.id})`);
      }
      values.set(n.id, y);
    }
    return get(this.graph.output) as tf.Tensor2D;
  }

  dispose(): void {
    for (const v of [...this.vars.values(), ...this.buffers.values()]) v.dispose();
  }
}

/** A training step like our trainStep: upload the batch, forward, mean softmax cross-entropy,
 *  gradients of every parameter, Adam update. Returns the loss (a scalar tensor the caller owns). */
export function tfjsTrainStep(model: TfjsModel, opt: tf.Optimizer, x: Float32Array, shape: readonly number[],
  labels: Float32Array, numClasses: number): tf.Scalar {
  const [n, c, h, w] = shape;
  return tf.tidy(() => {
    // Our batches are NCHW; with 1 channel NCHW and NHWC hold the same bytes, otherwise transpose.
    const xt = c === 1 ? tf.tensor4d(x, [n, h, w, 1]) : tf.transpose(tf.tensor4d(x, [n, c, h, w]), [0, 2, 3, 1]) as tf.Tensor4D;
    const onehot = tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), numClasses);
    const varList = [...model.vars.values()];
    const cost = opt.minimize(() => tf.losses.softmaxCrossEntropy(onehot, model.forward(xt)) as tf.Scalar, true, varList);
    return cost!;
  });
}


export { tf };
