import { describe, expect, it } from 'vitest';
import type { AdamParams, SgdParams } from '../src/engine/backend.ts';
import { adamStepInPlace, sgdStepInPlace } from '../src/engine/reference/optim.ts';
import { expectAllClose } from './helpers/reference-gradcheck.ts';

const p0 = [1, -2, 0.5];
const grads = [[0.5, 0.1, -1], [0.2, -0.3, 0.4], [-0.1, 0.05, 2]];

describe('reference SGD (PyTorch semantics)', () => {
  it('momentum 0.9 + weight decay, first step by hand', () => {
    const param = Float64Array.from(p0), buf = new Float64Array(3);
    const p: SgdParams = { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0.1, nesterov: false };
    sgdStepInPlace(param, Float64Array.from(grads[0]), buf, p, true);
    // g = grad + 0.1 * p = [0.6, -0.1, -0.95]; buf = g (first step); p -= 0.1 * buf.
    expectAllClose(buf, [0.6, -0.1, -0.95], 1e-15, 1e-16, 'buf1');
    expectAllClose(param, [0.94, -1.99, 0.595], 1e-15, 1e-16, 'p1');
    sgdStepInPlace(param, Float64Array.from(grads[1]), buf, p, false);
    // g = [0.2 + 0.094, -0.3 - 0.199, 0.4 + 0.0595]; buf = 0.9 * buf + g; p -= 0.1 * buf.
    const b2 = [0.9 * 0.6 + 0.294, 0.9 * -0.1 - 0.499, 0.9 * -0.95 + 0.4595];
    expectAllClose(buf, b2, 1e-15, 1e-16, 'buf2');
    expectAllClose(param, [0.94 - 0.1 * b2[0], -1.99 - 0.1 * b2[1], 0.595 - 0.1 * b2[2]], 1e-15, 1e-16, 'p2');
  });

  for (const nesterov of [false, true]) {
    for (const dampening of [0, 0.5]) {
      it(`three steps, momentum 0.9, wd 0.01, nesterov ${nesterov}, dampening ${dampening}`, () => {
        const lr = 0.05, mom = 0.9, wd = 0.01;
        const param = Float64Array.from(p0), buf = new Float64Array(3);
        const p: SgdParams = { lr, momentum: mom, dampening, weightDecay: wd, nesterov };
        // Expected, element by element, straight from the PyTorch formula.
        const ep = [...p0], eb = [0, 0, 0];
        for (let t = 0; t < 3; t++) {
          sgdStepInPlace(param, Float64Array.from(grads[t]), buf, p, t === 0);
          for (let i = 0; i < 3; i++) {
            const g = grads[t][i] + wd * ep[i];
            eb[i] = t === 0 ? g : mom * eb[i] + (1 - dampening) * g;
            const step = nesterov ? g + mom * eb[i] : eb[i];
            ep[i] -= lr * step;
          }
          expectAllClose(buf, eb, 1e-14, 1e-16, `buf step ${t + 1}`);
          expectAllClose(param, ep, 1e-14, 1e-16, `param step ${t + 1}`);
        }
      });
    }
  }

  it('plain SGD without momentum takes no buffer', () => {
    const param = Float64Array.from(p0);
    sgdStepInPlace(param, Float64Array.from(grads[0]), null,
      { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false }, true);
    expectAllClose(param, [0.95, -2.01, 0.6], 1e-15, 1e-16);
    expect(() => sgdStepInPlace(param, param, null,
      { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false }, true)).toThrow();
  });
});

describe('reference Adam / AdamW (PyTorch semantics)', () => {
  it('first step is lr * sign(g) (bias correction), by hand', () => {
    const base = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 1 };
    const g = Float64Array.from(grads[0]);
    // Adam without decay: m = 0.1 g, v = 0.001 g^2, mhat = g, vhat = g^2.
    let param = Float64Array.from(p0), m = new Float64Array(3), v = new Float64Array(3);
    adamStepInPlace(param, g, m, v, { ...base, weightDecay: 0, decoupled: false });
    expectAllClose(m, [0.05, 0.01, -0.1], 1e-14, 1e-16, 'm');
    expectAllClose(v, [0.00025, 0.00001, 0.001], 1e-12, 1e-18, 'v');
    expectAllClose(param, [1 - 0.01 * 0.5 / (0.5 + 1e-8), -2 - 0.01 * 0.1 / (0.1 + 1e-8), 0.5 + 0.01 * 1 / (1 + 1e-8)],
      1e-14, 1e-16, 'adam p');
    // AdamW: p *= 1 - lr * wd first (0.999 for wd 0.1), then the same Adam step.
    param = Float64Array.from(p0); m = new Float64Array(3); v = new Float64Array(3);
    adamStepInPlace(param, g, m, v, { ...base, weightDecay: 0.1, decoupled: true });
    expectAllClose(param, [0.999 - 0.01 * 0.5 / (0.5 + 1e-8), -1.998 - 0.01 * 0.1 / (0.1 + 1e-8),
      0.4995 + 0.01 / (1 + 1e-8)], 1e-14, 1e-16, 'adamw p');
    // Adam with L2: g' = g + 0.1 p = [0.6, -0.1, -0.95] enters m and v.
    param = Float64Array.from(p0); m = new Float64Array(3); v = new Float64Array(3);
    adamStepInPlace(param, g, m, v, { ...base, weightDecay: 0.1, decoupled: false });
    expectAllClose(m, [0.06, -0.01, -0.095], 1e-14, 1e-16, 'adam-l2 m');
    expectAllClose(param, [1 - 0.01 * 0.6 / (0.6 + 1e-8), -2 + 0.01 * 0.1 / (0.1 + 1e-8), 0.5 + 0.01 * 0.95 / (0.95 + 1e-8)],
      1e-14, 1e-16, 'adam-l2 p');
  });

  for (const decoupled of [false, true]) {
    it(`three steps of ${decoupled ? 'AdamW' : 'Adam'} with weight decay, step by step`, () => {
      const lr = 0.01, b1 = 0.8, b2 = 0.95, eps = 1e-6, wd = 0.05;
      const param = Float64Array.from(p0), m = new Float64Array(3), v = new Float64Array(3);
      const ep = [...p0], em = [0, 0, 0], ev = [0, 0, 0];
      for (let t = 1; t <= 3; t++) {
        const p: AdamParams = { lr, beta1: b1, beta2: b2, eps, weightDecay: wd, decoupled, step: t };
        adamStepInPlace(param, Float64Array.from(grads[t - 1]), m, v, p);
        for (let i = 0; i < 3; i++) {
          let g = grads[t - 1][i];
          if (decoupled) ep[i] *= 1 - lr * wd;
          else g += wd * ep[i];
          em[i] = b1 * em[i] + (1 - b1) * g;
          ev[i] = b2 * ev[i] + (1 - b2) * g * g;
          const mhat = em[i] / (1 - b1 ** t), vhat = ev[i] / (1 - b2 ** t);
          ep[i] -= lr * mhat / (Math.sqrt(vhat) + eps);
        }
        expectAllClose(m, em, 1e-13, 1e-16, `m step ${t}`);
        expectAllClose(v, ev, 1e-13, 1e-18, `v step ${t}`);
        expectAllClose(param, ep, 1e-13, 1e-16, `param step ${t}`);
      }
    });
  }

  it('runs on float32 storage', () => {
    const param = Float32Array.from(p0), m = new Float32Array(3), v = new Float32Array(3);
    adamStepInPlace(param, Float32Array.from(grads[0]), m, v,
      { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: true, step: 1 });
    expectAllClose(param, [0.99, -2.01, 0.51], 1e-6, 1e-7);
  });
});
