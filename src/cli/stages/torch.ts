/**
 * Stages `export-torch` and `import-torch`: the quantization recipe out to PyTorch (torch.ao QAT under torchrun with
 * DDP), and its QAT result back (src/io/torch).
 *   export-torch --model-path DIR [--out FOLDER] [--data SPEC --data-images N]
 *       DIR/qat-checkpoint (else calib-checkpoint) -> FOLDER (default DIR/torch): weights.safetensors, qparams.json,
 *       model.py, studio_quant.py, train_qat.py, torchrun_compat.py, studio-graph.json; with --data-images N also train.safetensors
 *       (N training images, the seed-0 permutation's first, normalized as the model expects) and test.safetensors (the test set, or
 *       --test-subset of it).
 *   import-torch --checkpoint FOLDER --model-path DIR
 *       FOLDER as train_qat.py writes it -> DIR/qat-checkpoint (the same fused graph; DIR must be empty of other
 *       models' checkpoints).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isLabelled, randomSubset } from '../../data/dataset.ts';
import type { Normalization } from '../../data/loader.ts';
import { buildTorchPackage } from '../../io/torch/export-package.ts';
import { datasetSafetensors } from '../../io/torch/dataset-file.ts';
import { importTorchCheckpoint, sameGraph, type TorchImportFiles } from '../../io/torch/import-checkpoint.ts';
import { encodeQuantCheckpoint } from '../../quant/quant-checkpoint.ts';
import { loadStageData } from '../data.ts';
import { UsageError } from '../options.ts';
import { loadQuantCheckpoint } from './quant-common.ts';

function positiveInt(name: string, v: string | undefined): number | null {
  if (v === undefined) return null;
  const x = Number(v);
  if (!Number.isInteger(x) || x < 1) throw new UsageError(`--${name} must be a positive integer, got "${v}"`);
  return x;
}

export async function runExportTorch(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args: argv, strict: true,
    options: { 'model-path': { type: 'string' }, out: { type: 'string' }, data: { type: 'string' }, 'data-images': { type: 'string' }, 'test-subset': { type: 'string' } },
  });
  const dir = v['model-path'];
  if (!dir) throw new UsageError('export-torch needs --model-path DIR (a folder with a calib-checkpoint or qat-checkpoint)');
  const dataImages = positiveInt('data-images', v['data-images']);
  const testSubset = positiveInt('test-subset', v['test-subset']);
  let ck = await loadQuantCheckpoint(dir, 'qat');
  let source = 'qat-checkpoint';
  if (!ck) {
    ck = await loadQuantCheckpoint(dir, 'calib');
    source = 'calib-checkpoint';
  }
  if (!ck) throw new Error(`${dir}: no qat-checkpoint or calib-checkpoint; run the calib stage (and qat) first`);
  const normalization = (ck.meta.normalization as Normalization | undefined) ?? 'pixel/255';
  const out = v.out ?? join(dir, 'torch');
  const pkg = buildTorchPackage(ck, normalization);
  await mkdir(out, { recursive: true });
  for (const [name, bytes] of Object.entries(pkg.files)) await writeFile(join(out, name), bytes);
  const q = pkg.qparams;
  console.log(`Exported ${ck.model} from ${join(dir, source)} to ${out}: ${Object.keys(q.modules).length} modules, ` +
    `${Object.keys(q.activations).length} activation and ${Object.keys(q.weights).length} weight fake-quant sites ` +
    `(march ${q.qconfig.march}, rounding ${q.qconfig.rounding})` +
    ((q.outputs?.length ?? 1) > 1 ? `; ${q.outputs!.length} outputs (forward returns a tuple): ${q.outputs!.map((o) => `${o.name} ${o.dtype}`).join(', ')}` : ''));
  // a model with several outputs or no class scores trains by distillation (train_qat.py forces it too)
  let distill = (q.outputs ?? []).some((o) => !o.class_scores) || (q.outputs?.length ?? 1) > 1;
  if (dataImages !== null) {
    const data = await loadStageData(v.data ?? 'fashion-mnist', null, testSubset);
    // a seed-0 permutation, like --subset (the built-in set is stored class by class: a prefix would be one class)
    const train = dataImages < data.train.count ? randomSubset(data.train, dataImages, 0) : data.train;
    if (!isLabelled(train)) distill = true;
    await writeFile(join(out, 'train.safetensors'), datasetSafetensors(train, normalization));
    await writeFile(join(out, 'test.safetensors'), datasetSafetensors(data.test, normalization));
    console.log(`Data: train.safetensors (${train.count} images), test.safetensors (${data.test.count} images), normalized as ${JSON.stringify(normalization)}`);
  }
  console.log(`Next: cd ${out} && torchrun --nproc_per_node 2 train_qat.py --data train.safetensors --steps 100 --out qat-out${distill ? ' --distill' : ''}` +
    ' (torch 1.13 on Python >= 3.11: python3 torchrun_compat.py instead of torchrun)');
}

export async function runImportTorch(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({ args: argv, strict: true, options: { checkpoint: { type: 'string' }, 'model-path': { type: 'string' } } });
  const from = v.checkpoint, dir = v['model-path'];
  if (!from || !dir) throw new UsageError('import-torch needs --checkpoint FOLDER (written by train_qat.py) and --model-path DIR');
  const read = async (name: keyof TorchImportFiles) => {
    const file = join(from, name);
    try {
      return { name: file, bytes: new Uint8Array(await readFile(file)) };
    } catch {
      throw new UsageError(`${file}: not found (train_qat.py writes weights.safetensors, qparams.json and studio-graph.json into its --out folder)`);
    }
  };
  const r = importTorchCheckpoint({
    'weights.safetensors': await read('weights.safetensors'), 'qparams.json': await read('qparams.json'), 'studio-graph.json': await read('studio-graph.json'),
  });
  const ck = r.checkpoint;
  // Every result belongs to one model: DIR may hold checkpoints of this model only.
  for (const stage of ['calib', 'qat'] as const) {
    const other = await loadQuantCheckpoint(dir, stage);
    if (other && (other.model !== ck.model || !sameGraph(other.graph, ck.graph))) {
      throw new UsageError(`${join(dir, `${stage}-checkpoint`)} is of ${other.model === ck.model ? 'another fused graph of ' : ''}model ${other.model}; ` +
        `import ${ck.model} into its own --model-path`);
    }
  }
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'qat-checkpoint'), encodeQuantCheckpoint({ ...ck, meta: { ...ck.meta, importedFrom: from } }));
  console.log(`Imported the PyTorch QAT checkpoint ${from} (${ck.model}: ${ck.graph.params.length} parameters, ${r.activationSites} activation scales) ` +
    `into ${join(dir, 'qat-checkpoint')}`);
  if (r.weightScaleMismatches) console.log(`Note: ${r.weightScaleMismatches} weight-channel scales in qparams.json differ from the ones the weights give; the studio uses the weights'`);
  console.log(`Next: npm run cli -- int_infer --model-path ${dir} (the deployment check), compile --march M`);
}
