/**
 * torchvision's classification zoo at 3x32x32 (opset 13), shared by tests/onnx-zoo.test.ts and scripts/zoo-report.ts:
 * the models are exported by scripts/make-onnx-fixtures.py --zoo into a cache folder (keyed by the script's
 * content, so a changed export regenerates them; never committed), then each is imported and compared with
 * onnxruntime-node on random inputs, before and after fusion, on the backends asked for.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../src/engine/backend.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { importOnnx, SUPPORTED_OPS } from '../src/io/onnx/import.ts';
import { decodeModelProto } from '../src/io/onnx/proto.ts';
// the same onnxruntime and engine runs as the import tests
import { randomInput, relError, runOrt, runOurs } from '../tests/helpers/onnx.ts';

/** The models of make-onnx-fixtures.py's ZOO, smallest compute first. */
export const ZOO_MODELS = [
  'squeezenet1_1', 'shufflenet_v2_x0_5', 'mnasnet0_5', 'mobilenet_v3_small', 'mobilenet_v2', 'regnet_x_400mf',
  'mobilenet_v3_large', 'efficientnet_b0', 'googlenet', 'resnet18', 'densenet121',
] as const;
export type ZooModel = (typeof ZOO_MODELS)[number];

const SCRIPT = fileURLToPath(new URL('./make-onnx-fixtures.py', import.meta.url));

/**
 * The cache folder of this version of the zoo export: keyed by the script's zoo section (from its heading to the
 * next one) and randomize_bn, so edits to the other fixtures keep the cache.
 */
export function zooDir(): string {
  const text = readFileSync(SCRIPT, 'utf8');
  const section = (from: string, ...to: string[]) => {
    const i = text.indexOf(from);
    if (i < 0) return text;
    const ends = to.map((t) => text.indexOf(t, i + from.length)).filter((j) => j >= 0);
    return text.slice(i, ends.length ? Math.min(...ends) : undefined);
  };
  const zoo = section("# torchvision's classification zoo", '\n# ----', '\ndef main') + section('def randomize_bn', '\n\n\n');
  const key = createHash('sha256').update(zoo).digest('hex').slice(0, 12);
  return process.env.QS_ZOO_DIR ?? join(tmpdir(), `quant-studio-zoo-${key}`);
}

/** A model's file in the cache folder: NAME.onnx at 3x32x32, NAME_S.onnx at 3xSxS. */
export const zooFile = (dir: string, name: string, size = 32) => join(dir, size === 32 ? `${name}.onnx` : `${name}_${size}.onnx`);

/** Exports the models that are not in the cache yet (Debian's python3-torch / python3-torchvision); returns the folder. */
export function ensureZoo(names: readonly string[] = ZOO_MODELS, size = 32): string {
  const dir = zooDir();
  const missing = names.filter((n) => !existsSync(zooFile(dir, n, size)));
  if (missing.length) {
    const r = spawnSync('/usr/bin/python3', [SCRIPT, '--zoo', dir, '--size', String(size), ...missing], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) throw new Error(`make-onnx-fixtures.py --zoo failed (status ${r.status}): ${r.stderr.slice(-2000)}`);
  }
  return dir;
}

const FINETUNE_SCRIPT = fileURLToPath(new URL('./zoo_finetune.py', import.meta.url));

/**
 * The cache folder of the zoo fine-tuned for `steps` steps (scripts/zoo_finetune.py, for the quantized flow): keyed
 * by that script, the zoo's model list and the steps; $QS_ZOO_FT_DIR overrides it.
 */
export function zooFinetunedDir(steps: number): string {
  const zoo = readFileSync(SCRIPT, 'utf8');
  const models = zoo.slice(zoo.indexOf('ZOO = {'), zoo.indexOf('\n}\n', zoo.indexOf('ZOO = {')));
  const key = createHash('sha256').update(readFileSync(FINETUNE_SCRIPT)).update(models).digest('hex').slice(0, 12);
  return process.env.QS_ZOO_FT_DIR ?? join(tmpdir(), `quant-studio-zoo-ft${steps}-${key}`);
}

export const zooFinetunedFile = (dir: string, name: string) => join(dir, `${name}_ft.onnx`);

/** Fine-tunes and exports the models not in the cache yet (Debian's python3-torch); returns the folder. */
export function ensureZooFinetuned(names: readonly string[], steps: number): string {
  const dir = zooFinetunedDir(steps);
  const missing = names.filter((n) => !existsSync(zooFinetunedFile(dir, n)));
  if (missing.length) {
    const r = spawnSync('/usr/bin/python3', [SCRIPT, '--zoo-finetuned', dir, '--steps', String(steps), ...missing], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) throw new Error(`make-onnx-fixtures.py --zoo-finetuned failed (status ${r.status}): ${r.stderr.slice(-2000)}`);
  }
  return dir;
}

/** The ONNX op types of a model file, in first-use order. */
export function onnxOps(bytes: Uint8Array): string[] {
  const m = decodeModelProto(bytes);
  return [...new Set((m.graph?.node ?? []).map((n) => n.opType ?? ''))];
}

/** The file's ops that no registry entry reads (the importer refuses the model for these). */
export function unsupportedOps(bytes: Uint8Array): string[] {
  const known = new Set(SUPPORTED_OPS);
  return onnxOps(bytes).filter((o) => !known.has(o));
}

export interface ZooResult {
  name: string;
  ops: string[];
  /** The importer's refusal (the OnnxImportError message), or null when the model imports. */
  refusal: string | null;
  nodes?: number;
  /** Relative error against onnxruntime per backend kind: unfused and fused. */
  rel: Record<string, { unfused: number; fused: number }>;
  seconds: number;
}

/** Imports one model and compares it with onnxruntime on `batch` random inputs on each backend. */
export async function checkZooModel(name: string, bytes: Uint8Array, backends: Backend[], batch = 2): Promise<ZooResult> {
  const t0 = performance.now();
  const ops = onnxOps(bytes);
  let r;
  try {
    r = importOnnx(bytes, `${name}.onnx`);
  } catch (e) {
    return { name, ops, refusal: (e as Error).message, rel: {}, seconds: (performance.now() - t0) / 1000 };
  }
  const shape = [batch, ...r.inputShape];
  const x = randomInput(shape.reduce((a, b) => a * b, 1), 7);
  const want = await runOrt(bytes, x, shape);
  const f = fuse(r.graph, r.host);
  const rel: ZooResult['rel'] = {};
  for (const be of backends) {
    rel[be.kind] = {
      unfused: relError(await runOurs(be, r.graph, r.host, x, shape), want),
      fused: relError(await runOurs(be, f.graph, f.host, x, shape), want),
    };
  }
  return { name, ops, refusal: null, nodes: r.graph.nodes.length, rel, seconds: (performance.now() - t0) / 1000 };
}
