/**
 * The stages `analyze` compares, loaded from DIR: the fused float model (float-checkpoint), the calibrated and QAT
 * fake-quant models (calib-/qat-checkpoint, VALIDATION state) and the fixed-point simulator (the deployment
 * checkpoint converted, run in process on the CPU kernels). Everything is released by `dispose`.
 */
import type { DataShape } from './model-source.ts';
import type { Backend } from '../engine/backend.ts';
import type { Normalization } from '../data/loader.ts';
import { ParamStore } from '../nn/params.ts';
import { convertCheckpoint } from '../quant/convert.ts';
import type { QuantCheckpoint } from '../quant/quant-checkpoint.ts';
import type { QuantizedModel } from '../quant/quantized-model.ts';
import { engineStage, simStage, type SiteGrid, type StageName, type StageRunner } from '../quant/analysis/stage-runner.ts';
import { SimClient } from '../sim/client.ts';
import { spawnInProcessSim } from '../sim/in-process.ts';
import { encodeModelFile, MODEL_FILE_EXTENSION } from '../sim/model-file.ts';
import { UsageError } from './options.ts';
import { buildQuantized, loadFusedFloat, loadQuantCheckpoint, type QuantOptions } from './stages/quant-common.ts';

export interface LoadedQuantized {
  ck: QuantCheckpoint;
  qm: QuantizedModel;
}

export class AnalyzeSources {
  private readonly quantized = new Map<'calib' | 'qat', LoadedQuantized>();
  private readonly disposers: (() => void)[] = [];

  constructor(readonly be: Backend, readonly o: QuantOptions, readonly data: DataShape) {}

  /** The calib or qat checkpoint as a fake-quant model (loaded once). */
  async quantizedModel(stage: 'calib' | 'qat'): Promise<LoadedQuantized> {
    const have = this.quantized.get(stage);
    if (have) return have;
    const ck = await loadQuantCheckpoint(this.o.modelPath, stage);
    if (!ck) throw new UsageError(`${this.o.modelPath}: no ${stage}-checkpoint; run the ${stage} stage first`);
    const qm = buildQuantized(this.be, ck.graph, ck.params, ck.qconfig, ck.qsites);
    qm.setState('VALIDATION');
    this.disposers.push(() => { qm.store.dispose(); qm.dispose(); });
    const l = { ck, qm };
    this.quantized.set(stage, l);
    return l;
  }

  /** The stage the simulator runs: qat-checkpoint, else calib-checkpoint. */
  async deployStage(): Promise<'calib' | 'qat'> {
    return (await loadQuantCheckpoint(this.o.modelPath, 'qat')) ? 'qat' : 'calib';
  }

  async runner(name: StageName): Promise<StageRunner> {
    if (name === 'float') {
      const f = await loadFusedFloat(this.o, this.data);
      const store = new ParamStore(this.be, f.graph, f.host);
      this.disposers.push(() => store.dispose());
      return engineStage('float', this.be, f.graph, store, undefined);
    }
    if (name === 'sim') {
      const { ck } = await this.quantizedModel(await this.deployStage());
      const im = convertCheckpoint(ck);
      const client = new SimClient(() => spawnInProcessSim());
      this.disposers.push(() => client.dispose());
      await client.load(encodeModelFile(im), { file: `${ck.model}${MODEL_FILE_EXTENSION}`, device: 'cpu' });
      return simStage(im, async (x, n, dump) => {
        const out = await client.run([{ x, n }], { dump });
        return { output: out.outputs[0], outputs: out.allOutputs?.[0], dumps: out.dumps![0] };
      });
    }
    const { qm } = await this.quantizedModel(name);
    return engineStage(name, this.be, qm.plan.graph, qm.store, qm.hooks, await gridsOf(qm));
  }

  /** The normalization the quantized checkpoint was made with (else the model's). */
  normalization(ck: QuantCheckpoint, fallback: Normalization): Normalization {
    return this.o.onnx || this.o.preprocessing ? fallback : (ck.meta.normalization as Normalization | undefined) ?? fallback;
  }

  dispose(): void {
    for (const d of this.disposers.reverse()) d();
    this.disposers.length = 0;
  }
}

/** Per-tensor grids of a fake-quant model's activation sites. */
export async function gridsOf(qm: QuantizedModel): Promise<Map<string, SiteGrid>> {
  const { activations } = await qm.scales();
  const grids = new Map<string, SiteGrid>();
  for (const a of qm.plan.acts) if (activations[a.node] !== undefined) grids.set(a.node, { scale: activations[a.node], quantMin: a.quantMin, quantMax: a.quantMax });
  return grids;
}
