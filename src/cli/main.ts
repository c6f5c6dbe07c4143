/**
 * Quant Studio's headless CLI: the workflow's stages in Node.
 *   npm run cli -- <stage> [options]     stages: float, calib, qat, int_infer, compile, pipeline
 */
import { runFloat } from './stages/float.ts';
import { runCalib } from './stages/calib.ts';
import { runQat } from './stages/qat.ts';
import { runIntInfer } from './stages/int-infer.ts';
import { runCompile } from './stages/compile.ts';
import { runPipeline } from './stages/pipeline.ts';
import { runAnalyze } from './stages/analyze.ts';
import { runExportTorch, runImportTorch } from './stages/torch.ts';
import { UsageError } from './options.ts';
import { DATA_SYNTAX } from './data.ts';
import { MODEL_NAMES } from '../models/zoo.ts';

const STAGES: Record<string, (argv: string[]) => Promise<void>> = {
  float: runFloat,
  calib: runCalib,
  qat: runQat,
  int_infer: runIntInfer,
  compile: runCompile,
  pipeline: runPipeline,
  analyze: runAnalyze,
  'export-torch': runExportTorch,
  'import-torch': runImportTorch,
};

const USAGE = `usage: npm run cli -- <stage> [options]
stages: ${Object.keys(STAGES).join(', ')}
options: --model ${MODEL_NAMES.join('|')} --data ${DATA_SYNTAX}
         [--resize HxW] [--subset N] [--test-subset N] [--unlabelled] (the images without their labels; a folder
         of images without class folders has none: calibration, qat --distill and int_infer need no labels)
         --epochs E --batch-size B --lr X [--optimizer adam|adamw|sgd] [--schedule onecycle|cosine|step|constant]
         --seed S --backend webgpu|cpu [--gpu auto|gles|vulkan] --model-path DIR [--augment] [--resume]
         --onnx FILE [--input-scale S --input-mean M[,..] --input-std S[,..]]  (instead of --model: an imported model;
         float --epochs 0 just evaluates it; preprocessing default: the file's metadata, else pixel/255)
calib/qat also: [--qconfig default_calibration|default_qat|default_qat_fixed_act|..._int16] [--observer NAME]
         [--march bernoulli|bernoulli2|bayes|bayes-e|nash-e|nash-m] [--calib-images N] [--rounding half_even|bpu_round]
         [--weight-bits 8|4] (per-channel int8 or int4 weights)
qat also: [--distill [--distill-loss mse|kl] [--feature-weight W]] (the float model teaches the fake-quant model;
         needed without labels; with labels the cross-entropy is added)
calib also: [--auto-calib [--auto-calib-observers minmax,percentile,mse,kl] [--auto-calib-images N (above --calib-images: scored on held-out training images too)] [--auto-calib-criterion l2|kl|loss] [--auto-calib-gate Z]]
         [--adaround [--adaround-steps N] [--adaround-batches N] [--adaround-warm-up X] [--adaround-weight X]
                     [--adaround-b-range A,B] [--adaround-exclude PREFIX,..] [--adaround-lr X]]
int_infer/compile/pipeline take the calib/qat options; compile --march M estimates on march M and writes
         DIR/model.qsbin, DIR/perf.json (and DIR/model.qdq.onnx with the ONNX exporter); pipeline also: [--force]
analyze takes the calib/qat options and [--compare A,B (float|calib|qat|sim)] [--metric l1|mse|cosine|kl|sqnr]
         [--bad-cases N] [--layers-on batch|bad-cases] [--layer-images N] [--no-sensitivity] [--no-mixed-precision];
calib also: [--int16-top K] (the top K sites of DIR/report.json's analyze.sensitivity ranking in int16)
export-torch --model-path DIR [--out FOLDER] [--data SPEC --data-images N [--test-subset N]]: the PyTorch package
import-torch --checkpoint FOLDER --model-path DIR: a QAT result of train_qat.py back as DIR/qat-checkpoint`;

async function main(argv: string[]): Promise<number> {
  const [stage, ...rest] = argv;
  if (!stage || stage === '--help' || stage === '-h') {
    console.log(USAGE);
    return stage ? 0 : 2;
  }
  const run = STAGES[stage];
  if (!run) {
    console.error(`unknown stage "${stage}"\n${USAGE}`);
    return 2;
  }
  try {
    await run(rest);
    return 0;
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(e as Error).message}\n${USAGE}`);
      return 2;
    }
    console.error(`error: ${(e as Error).message}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
