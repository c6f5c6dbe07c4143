/**
 * The PyTorch export of a calib / qat checkpoint, as files (a folder for the CLI, a .zip for the page):
 *   weights.safetensors  the fused float weights under the model's state_dict keys
 *   qparams.json         the qconfig and every scale, PyTorch names (qparams-json.ts)
 *   model.py             build(qat=False) -> torch.nn.Module, the fused model in torch.ao quantization (model-py.ts)
 *   studio_quant.py      the runtime model.py uses (StudioFakeQuantize, fused modules, safetensors)
 *   train_qat.py         QAT under torchrun with DistributedDataParallel
 *   torchrun_compat.py   torchrun with the fix PyTorch 1.13 needs on Python >= 3.11 (Debian 12)
 *   studio-graph.json    the studio's fused graph and qconfig, so a QAT result comes back as the same graph
 */
import { zipSync } from 'fflate';
import type { Normalization } from '../../data/loader.ts';
import type { Graph } from '../../graph/ir.ts';
import type { QConfig } from '../../quant/qconfig.ts';
import type { QuantCheckpoint } from '../../quant/quant-checkpoint.ts';
import STUDIO_QUANT_PY from './templates/studio_quant.py';
import TRAIN_QAT_PY from './templates/train_qat.py';
import TORCHRUN_COMPAT_PY from './templates/torchrun_compat.py';
import { generateModelPy } from './model-py.ts';
import { buildTorchQParams, torchStateTensors, TORCH_FORMAT, type TorchQParamsJson } from './qparams-json.ts';
import { encodeSafetensors, type SafeTensor } from './safetensors.ts';
import { torchFolderName, torchModuleNames } from './torch-names.ts';

export const STUDIO_GRAPH_FORMAT = 'quant-studio-graph';

/** studio-graph.json: what the import needs to rebuild the studio's model (the torch side ignores it). */
export interface StudioGraphJson {
  format: typeof STUDIO_GRAPH_FORMAT;
  version: 1;
  model: string;
  graph: Graph;
  qconfig: QConfig;
  normalization: Normalization;
  /** node id -> module name of model.py */
  modules: Record<string, string>;
}

export interface TorchPackage {
  files: Record<string, Uint8Array>;
  qparams: TorchQParamsJson;
}

const text = (s: string) => new TextEncoder().encode(s);

export function buildTorchPackage(ck: QuantCheckpoint, normalization: Normalization): TorchPackage {
  const q = buildTorchQParams(ck, normalization);
  const names = torchModuleNames(ck.graph);
  const tensors: Record<string, SafeTensor> = {};
  for (const [key, data] of Object.entries(torchStateTensors(q, ck.params))) {
    const spec = ck.graph.params.find((p) => p.name === q.modules[key.slice(0, key.lastIndexOf('.'))].params[key])!;
    tensors[key] = { dtype: 'F32', shape: spec.shape, data };
  }
  const graphJson: StudioGraphJson = {
    format: STUDIO_GRAPH_FORMAT, version: 1, model: ck.model, graph: ck.graph, qconfig: ck.qconfig, normalization,
    modules: Object.fromEntries(names),
  };
  const files: Record<string, Uint8Array> = {
    'weights.safetensors': encodeSafetensors(tensors, { format: TORCH_FORMAT, model: ck.model }),
    'qparams.json': text(JSON.stringify(q, null, 1)),
    'model.py': text(generateModelPy(ck.graph, names, q)),
    'studio_quant.py': text(STUDIO_QUANT_PY),
    'train_qat.py': text(TRAIN_QAT_PY),
    'torchrun_compat.py': text(TORCHRUN_COMPAT_PY),
    'studio-graph.json': text(JSON.stringify(graphJson)),
  };
  return { files, qparams: q };
}

/** The package as one .zip (the page's download), files under `folder/`. */
export function zipTorchPackage(p: TorchPackage, folder: string): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(p.files).map(([name, data]) => [`${folder}/${name}`, data])));
}

/** The page's download: the package of a checkpoint zipped under a folder named for the model and stage. */
export function torchPackageZip(ck: QuantCheckpoint, normalization: Normalization): Uint8Array {
  return zipTorchPackage(buildTorchPackage(ck, normalization), torchFolderName(ck.model, ck.stage));
}
