/** The analyze stage's options and calib --int16-top: documented defaults, and bad values refused with the option's name. */
import { describe, expect, it } from 'vitest';
import { parseAnalyze } from '../src/cli/stages/analyze.ts';
import { parseInt16Top } from '../src/cli/int16-top.ts';

describe('analyze options', () => {
  it('defaults: float against the deployed checkpoint, cosine, 20 bad cases, layers on a batch of 256, every pass', () => {
    const a = parseAnalyze(['--model-path', 'runs/x']);
    expect(a).toMatchObject({ metric: 'cosine', topN: 20, layerImages: 256, layersOn: 'batch', compare: null, sensitivity: true, mixedPrecision: true });
    expect(a.o.modelPath).toBe('runs/x');
  });
  it('reads the stages, metric and passes', () => {
    const a = parseAnalyze(['--compare', 'qat,sim', '--metric', 'kl', '--bad-cases', '5', '--layers-on', 'bad-cases', '--no-mixed-precision']);
    expect(a).toMatchObject({ compare: ['qat', 'sim'], metric: 'kl', topN: 5, layersOn: 'bad-cases', sensitivity: true, mixedPrecision: false });
  });
  const bad: [string[], RegExp][] = [
    [['--metric', 'l2'], /--metric must be one of l1\|mse\|cosine\|kl\|sqnr, got "l2"/],
    [['--compare', 'float,float'], /--compare must be two different stages/],
    [['--compare', 'float'], /--compare must be two different stages/],
    [['--compare', 'float,int8'], /--compare must be two different stages of float\|calib\|qat\|sim/],
    [['--bad-cases', '0'], /--bad-cases must be a positive integer, got "0"/],
    [['--layers-on', 'all'], /--layers-on must be batch\|bad-cases/],
    [['--int16-top', '2'], /int16-top/],
  ];
  for (const [argv, re] of bad) it(`refuses ${argv.join(' ')}`, () => expect(() => parseAnalyze(argv)).toThrow(re));
});

describe('calib --int16-top', () => {
  it('takes K >= 0, absent means none', () => {
    expect(parseInt16Top(undefined)).toBeNull();
    expect(parseInt16Top('3')).toBe(3);
    expect(() => parseInt16Top('-1')).toThrow(/--int16-top must be an integer >= 0, got "-1"/);
    expect(() => parseInt16Top('two')).toThrow(/--int16-top must be an integer >= 0/);
  });
});
