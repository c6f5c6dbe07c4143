/** The CLI's options of QAT and data without labels: --unlabelled, --distill, --distill-loss, --feature-weight. */
import { describe, expect, it } from 'vitest';
import { parseDistill } from '../src/cli/distill-options.ts';
import { parseCommon, UsageError } from '../src/cli/options.ts';
import { DISTILL_OPTIONS } from '../src/cli/distill-options.ts';
import { parseQuant } from '../src/cli/stages/quant-common.ts';

const rest = (argv: string[]) => parseQuant(argv, 'default_qat', DISTILL_OPTIONS).rest;

describe('--unlabelled', () => {
  it('is a switch of every stage, off by default', () => {
    expect(parseCommon([]).unlabelled).toBe(false);
    expect(parseCommon(['--unlabelled']).unlabelled).toBe(true);
    expect(() => parseCommon(['--unlabelled=yes'])).toThrow();
  });
});

describe('qat --distill', () => {
  it('defaults: MSE, no feature term; KL and a feature weight when given', () => {
    expect(parseDistill(rest(['--distill']), true)).toEqual({ loss: 'mse', featureWeight: 0 });
    expect(parseDistill(rest(['--distill', '--distill-loss', 'kl', '--feature-weight', '0.25']), false)).toEqual({ loss: 'kl', featureWeight: 0.25 });
    expect(parseDistill(rest([]), true)).toBeNull();
  });

  it('refuses, by option name: labelled QAT without labels, distillation options without --distill, bad values', () => {
    const err = (argv: string[], labelled: boolean) => {
      try {
        parseDistill(rest(argv), labelled);
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(err([], false)).toBe('QAT with cross-entropy needs labels, and the data has none: add --distill (the float model teaches the quantized one on the images alone)');
    expect(err(['--feature-weight', '1'], true)).toBe('--feature-weight is an option of distillation QAT: add --distill');
    expect(err(['--distill', '--distill-loss', 'ce'], true)).toBe('--distill-loss must be mse|kl, got "ce"');
    expect(err(['--distill', '--feature-weight', 'x'], true)).toBe('--feature-weight must be a number >= 0, got "x"');
    expect(err(['--distill', '--feature-weight=-0.5'], true)).toBe('--feature-weight must be a number >= 0, got "-0.5"');
  });
});
