/** The PTQ options of `calib` (src/cli/ptq-options.ts): the guide's AdaRound parameters and the automatic calibration candidates, each refused by name when wrong. */
import { describe, expect, it } from 'vitest';
import { parsePtq } from '../src/cli/ptq-options.ts';
import { UsageError } from '../src/cli/options.ts';
import { ADAROUND_DEFAULTS } from '../src/quant/ptq/adaround-config.ts';
import { AUTO_CALIB_DEFAULT, AUTO_CALIB_DEFAULT_CRITERION, AUTO_CALIB_DEFAULT_GATE } from '../src/quant/ptq/auto-calib.ts';

describe('calib PTQ options', () => {
  it('off unless asked; defaults where a value is not given', () => {
    expect(parsePtq({}, 32)).toEqual({ adaround: null, autoCalib: null });
    const p = parsePtq({ adaround: true, 'auto-calib': true }, 32);
    expect(p.adaround).toEqual({ ...ADAROUND_DEFAULTS, batchSize: 32 });
    expect(p.autoCalib).toEqual({ candidates: AUTO_CALIB_DEFAULT, images: null, criterion: AUTO_CALIB_DEFAULT_CRITERION, gate: AUTO_CALIB_DEFAULT_GATE });
  });

  it('takes the guide parameters and candidates with a parameter', () => {
    const p = parsePtq({
      adaround: true, 'adaround-steps': '50', 'adaround-batches': '2', 'adaround-warm-up': '0.1', 'adaround-weight': '0.02',
      'adaround-b-range': '10,3', 'adaround-exclude': 'fc, conv1', 'adaround-lr': '0.05',
      'auto-calib': true, 'auto-calib-observers': 'mse, percentile:99.9,clip_std:4', 'auto-calib-images': '64', 'auto-calib-criterion': 'kl', 'auto-calib-gate': '2.5',
    }, 16);
    expect(p.adaround).toEqual({ numSteps: 50, numBatches: 2, warmUp: 0.1, weight: 0.02, bRange: [10, 3], excludePrefix: ['fc', 'conv1'], lr: 0.05, batchSize: 16 });
    expect(p.autoCalib).toEqual({ candidates: ['mse', 'percentile:99.9', 'clip_std:4'], images: 64, criterion: 'kl', gate: 2.5 });
  });

  it('refuses bad values with the option and the problem', () => {
    const bad = (rest: Record<string, string | boolean>, re: RegExp) => {
      expect(() => parsePtq(rest, 16)).toThrow(UsageError);
      expect(() => parsePtq(rest, 16)).toThrow(re);
    };
    bad({ 'adaround-steps': '5' }, /the --adaround-\* options need --adaround/);
    bad({ adaround: true, 'adaround-steps': '0' }, /AdaRound numSteps must be a positive integer, got 0/);
    bad({ adaround: true, 'adaround-warm-up': '1' }, /warm_up must be in \[0, 1\), got 1/);
    bad({ adaround: true, 'adaround-b-range': '20' }, /--adaround-b-range must be two numbers A,B, got "20"/);
    bad({ adaround: true, 'adaround-lr': 'fast' }, /--adaround-lr must be a number, got "fast"/);
    bad({ 'auto-calib-observers': 'mse' }, /the --auto-calib-\* options need --auto-calib/);
    bad({ 'auto-calib': true, 'auto-calib-observers': 'mse,nope' }, /"nope" is not a candidate observer/);
    bad({ 'auto-calib': true, 'auto-calib-observers': 'kl:3' }, /"kl:3": kl takes no parameter/);
    bad({ 'auto-calib': true, 'auto-calib-images': '0' }, /--auto-calib-images must be a positive integer, got "0"/);
    bad({ 'auto-calib': true, 'auto-calib-criterion': 'cosine' }, /--auto-calib-criterion must be one of l2\|kl\|loss, got "cosine"/);
    bad({ 'auto-calib-criterion': 'kl' }, /the --auto-calib-\* options need --auto-calib/);
    bad({ 'auto-calib-gate': '2' }, /the --auto-calib-\* options need --auto-calib/);
    bad({ 'auto-calib': true, 'auto-calib-gate': '-1' }, /--auto-calib-gate must be a number >= 0 \(a paired z; 0: any improvement\), got "-1"/);
    bad({ 'auto-calib': true, 'auto-calib-gate': 'two' }, /--auto-calib-gate must be a number, got "two"/);
  });
});
