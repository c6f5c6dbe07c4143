import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { Tape, Var } from '../src/engine/autograd.ts';
import { addFn, clampFn, RELU } from '../src/engine/fns/activation.ts';
import { linearFn } from '../src/engine/fns/dense.ts';
import { softmaxCrossEntropyFn } from '../src/engine/fns/loss.ts';

describe('autograd tape', () => {
  it('accumulates the gradient of a value used twice (residual) and releases everything', async () => {
    const be = createCpuBackend();
    const w = new Var(be.upload(new Float32Array([1, 2, 3, 4]), [2, 2]), true, 'w');
    const tape = new Tape(be);
    const x = tape.input(new Float32Array([1, -1]), [1, 2]);
    const h = tape.apply(linearFn, [x, w], null); // h = [1*1 + 2*-1, 3*1 + 4*-1] = [-1, -1]
    const y = tape.apply(addFn, [h, h], null); // y = 2h
    const seed = be.upload(new Float32Array([1, 1]), [1, 2]);
    tape.backward(y, seed);
    // dy/dw[o,k] = 2 * x[k]
    expect(Array.from(await be.read(w.grad!))).toEqual([2, -2, 2, -2]);
    tape.dispose();
    be.release(seed);
    be.release(w.grad!);
    be.release(w.value);
    expect(be.liveTensors()).toBe(0);
  });

  it('stops gradients at inputs and relu-masked paths', async () => {
    const be = createCpuBackend();
    const w = new Var(be.upload(new Float32Array([1, 0, 0, -1, 2, 2]), [3, 2]), true, 'w');
    const tape = new Tape(be);
    const x = tape.input(new Float32Array([2, 3]), [1, 2]);
    const logits = tape.apply(clampFn, [tape.apply(linearFn, [x, w], null)], RELU); // [2, 0(clamped), 10]
    const labels = tape.input(new Float32Array([0]), [1]);
    const loss = tape.apply(softmaxCrossEntropyFn, [logits, labels], null);
    const seed = be.upload(new Float32Array([1]), [1]);
    tape.backward(loss, seed);
    const g = await be.read(w.grad!);
    // The second output is clamped, so its weight row gets no gradient.
    expect(g[2]).toBe(0);
    expect(g[3]).toBe(0);
    expect(g[0]).toBeLessThan(0); // raising the true class logit lowers the loss
    expect(x.grad).toBeNull();
    tape.dispose();
    for (const t of [seed, w.grad!, w.value]) be.release(t);
    expect(be.liveTensors()).toBe(0);
  });

  it('a no-grad tape records nothing and refuses backward', () => {
    const be = createCpuBackend();
    const w = new Var(be.upload(new Float32Array([1, 2]), [1, 2]), true);
    const tape = new Tape(be, false, false);
    const y = tape.apply(linearFn, [tape.input(new Float32Array([1, 1]), [1, 2]), w], null);
    expect(y.node).toBeNull();
    expect(() => tape.backward(y, y.value)).toThrow(/no-grad/);
    tape.dispose();
    be.release(w.value);
    expect(be.liveTensors()).toBe(0);
  });
});
