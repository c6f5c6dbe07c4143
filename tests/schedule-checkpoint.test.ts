import { describe, expect, it } from 'vitest';
import { scheduleAt } from '../src/engine/optim/schedule.ts';
import { decodeCheckpoint, encodeCheckpoint, CheckpointError } from '../src/io/checkpoint.ts';

describe('learning-rate schedules (PyTorch formulas)', () => {
  const base = { lr: 5e-3, totalSteps: 100, stepsPerEpoch: 10 };
  it('one-cycle starts at lr/25, peaks at lr after 30 % of steps, ends at lr/25/1e4; momentum mirrors it', () => {
    const c = { ...base, name: 'onecycle' as const };
    expect(scheduleAt(c, 0).lr).toBeCloseTo(5e-3 / 25, 12);
    expect(scheduleAt(c, 0).momentum).toBeCloseTo(0.95, 12);
    expect(scheduleAt(c, 29).lr).toBeCloseTo(5e-3, 12);
    expect(scheduleAt(c, 29).momentum).toBeCloseTo(0.85, 12);
    expect(scheduleAt(c, 99).lr).toBeCloseTo(5e-3 / 25 / 1e4, 15);
    // Half-way through the warm-up (cosine): the mean of start and peak.
    expect(scheduleAt(c, 14.5).lr).toBeCloseTo((5e-3 / 25 + 5e-3) / 2, 12);
  });
  it('cosine decays to 0 and step decays by gamma every stepSize epochs', () => {
    expect(scheduleAt({ ...base, name: 'cosine' }, 50).lr).toBeCloseTo(2.5e-3, 12);
    expect(scheduleAt({ ...base, name: 'cosine' }, 100).lr).toBeCloseTo(0, 12);
    const s = { ...base, name: 'step' as const, stepSize: 2, gamma: 0.5 };
    expect(scheduleAt(s, 19).lr).toBe(5e-3);
    expect(scheduleAt(s, 20).lr).toBe(2.5e-3);
    expect(scheduleAt(s, 45).lr).toBe(1.25e-3);
  });
});

describe('checkpoint format', () => {
  const c = {
    model: 'cnn-small', stage: 'float', meta: { epochsDone: 3 },
    params: { 'a.weight': new Float32Array([1.5, -2, 3e-8]), 'b.bias': new Float32Array([7]) },
    shapes: { 'a.weight': [3], 'b.bias': [1] },
  };
  it('round-trips parameters bit for bit', () => {
    const back = decodeCheckpoint(encodeCheckpoint(c), 'x');
    expect(back.model).toBe('cnn-small');
    expect(back.meta.epochsDone).toBe(3);
    expect(Array.from(back.params['a.weight'])).toEqual(Array.from(c.params['a.weight']));
    expect(back.shapes['b.bias']).toEqual([1]);
  });
  it('refuses truncated and foreign files with the file name', () => {
    const bytes = encodeCheckpoint(c);
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 4), 'ck.bin')).toThrow(/ck\.bin: truncated/);
    expect(() => decodeCheckpoint(new Uint8Array(40), 'zero.bin')).toThrow(CheckpointError);
    expect(() => decodeCheckpoint(new TextEncoder().encode('QSCK'), 'short.bin')).toThrow(/short\.bin: too short/);
  });
});
