/** The CLI's common options: the documented defaults, and bad values refused with the option's name before any work. */
import { describe, expect, it } from 'vitest';
import { parseCommon, UsageError } from '../src/cli/options.ts';

describe('parseCommon', () => {
  it('gives the documented defaults', () => {
    const o = parseCommon([]);
    expect(o).toMatchObject({
      model: 'cnn-small', data: 'fashion-mnist', subset: null, testSubset: null, epochs: 3, batchSize: 128, lr: 5e-3,
      optimizer: 'adam', schedule: 'onecycle', seed: 0, backend: 'webgpu', modelPath: 'runs/default', augment: false,
    });
  });

  it('reads the stable interface of the float stage', () => {
    const o = parseCommon(['--model', 'mlp', '--data', 'idx:/d', '--subset', '10000', '--test-subset', '500', '--epochs', '2',
      '--batch-size', '64', '--lr', '1e-3', '--optimizer', 'sgd', '--schedule', 'cosine', '--seed', '7', '--backend', 'cpu',
      '--model-path', 'runs/x']);
    expect(o).toMatchObject({
      model: 'mlp', data: 'idx:/d', subset: 10000, testSubset: 500, epochs: 2, batchSize: 64, lr: 1e-3, optimizer: 'sgd',
      schedule: 'cosine', seed: 7, backend: 'cpu', modelPath: 'runs/x',
    });
  });

  it('allows --epochs 0 (evaluate the model as it is)', () => {
    expect(parseCommon(['--epochs', '0']).epochs).toBe(0);
  });

  const bad: [string[], RegExp][] = [
    [['--batch-size=0'], /--batch-size must be >= 1, got "0"/],
    [['--batch-size', '2.5'], /--batch-size must be an integer, got "2.5"/],
    [['--subset', '0'], /--subset must be >= 1/],
    [['--test-subset=-3'], /--test-subset must be >= 1/],
    [['--epochs=-1'], /--epochs must be >= 0/],
    [['--lr', '0'], /--lr must be > 0, got "0"/],
    [['--lr', 'fast'], /--lr must be a number, got "fast"/],
    [['--momentum=-0.1'], /--momentum must be >= 0/],
    [['--weight-decay=-1'], /--weight-decay must be >= 0/],
    [['--seed=-1'], /--seed must be >= 0/],
    [['--optimizer', 'lion'], /optimizer/],
    [['--backend', 'cuda'], /backend/],
  ];
  for (const [argv, message] of bad) {
    it(`refuses ${argv.join(' ')}`, () => {
      expect(() => parseCommon(argv)).toThrow(UsageError);
      expect(() => parseCommon(argv)).toThrow(message);
    });
  }
});
