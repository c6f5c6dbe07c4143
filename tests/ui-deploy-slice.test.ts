/**
 * The deploy slice alone: settings and their validation, a check followed from its messages (started with the
 * artifacts, progress, simulator speed, done / cancelled / error), stale messages ignored, clearing; the graph
 * overlays of a result (an exact layer's infinite SQNR made finite); the JSON report and file names.
 */
import { describe, expect, it } from 'vitest';
import { createStore } from 'zustand/vanilla';
import type { DeployCheckResult, LayerStats } from '../src/quant/deploy-check.ts';
import type { DeployArtifacts } from '../src/train/quant-protocol.ts';
import {
  createDeploySlice, deploySettingErrors, metricOf, overlaysOf, DEFAULT_DEPLOY_SETTINGS, type DeploySlice,
} from '../src/ui/store/deploy-slice.ts';
import { deployFileNames, deployReport, reportBytes } from '../src/ui/features/deploy/deploy-report.ts';

const layer = (name: string, sqnr: number, maxLsb: number, cosine = 0.99): LayerStats =>
  ({ name, dtype: 'int8', elements: 10, equal_frac: 0.9, max_lsb: maxLsb, cosine, sqnr_db: sqnr });

const ARTIFACTS: DeployArtifacts = {
  source: 'qat', model: 'cnn-small', march: 'bayes', modelFile: new Uint8Array([0x51, 0x53, 0x49, 0x4d]), onnx: new Uint8Array([8, 1]),
  onnxError: null, intLayers: 9, accumulators: { at_risk: [], saturated_biases: [], worst_bits: 20 }, sites: 6, totalImages: 64,
  perf: [{ model: 'cnn-small', march: 'bayes', chip: 'J5', peak_tops: 128, ddr_gbps: 34.1, batch: 1, model_notes: 'roofline',
    totals: { macs_int8xint8: 1000, macs_int16xint8: 0, param_bytes: 100, feature_map_bytes: 50, ddr_bytes: 300, latency_ms: 0.01, fps: 100000 } }],
};

const RESULT: DeployCheckResult = {
  images: 64, agreement_top1: 98.4375, qat: { acc1: 70, acc5: 95 }, int: { acc1: 68.75, acc5: 95 }, seconds: 1.5,
  layers: [layer('conv1', 30, 1), layer('fc', 40, 0.5), layer('quant', Infinity, 0, 1)],
};

const store = () => createStore<DeploySlice>()(createDeploySlice);

describe('deploy slice', () => {
  it('edits and validates the settings', () => {
    const s = store();
    expect(s.getState().deploy.settings).toEqual(DEFAULT_DEPLOY_SETTINGS);
    s.getState().setDeploySetting('images', 64);
    s.getState().setDeploySetting('split', 'train');
    expect(s.getState().deploy.settings).toMatchObject({ images: 64, split: 'train', source: 'auto' });
    expect(deploySettingErrors(s.getState().deploy.settings)).toEqual({});
    expect(deploySettingErrors({ ...DEFAULT_DEPLOY_SETTINGS, images: 0, batchSize: 1.5 })).toEqual({ images: 'must be between 1 and 60000', batchSize: 'must be a whole number' });
    expect(deploySettingErrors({ ...DEFAULT_DEPLOY_SETTINGS, images: NaN }).images).toBe('must be a whole number');
    s.getState().setDeployMetric('cosine');
    expect(s.getState().deploy.metric).toBe('cosine');
  });

  it('follows a check: started with the artifacts, progress, simulator speed, done', () => {
    const s = store();
    const st = () => s.getState();
    // Nothing runs: worker messages are ignored.
    st().applyDeployMessage({ type: 'deploy-progress', images: 1, totalImages: 2 });
    st().applyDeployMessage({ type: 'deploy-started', ...ARTIFACTS });
    expect(st().deploy.artifacts).toBeNull();
    expect(st().deploy.job.status).toBe('idle');

    st().beginDeploy();
    expect(st().deploy.job).toMatchObject({ status: 'running', outcome: null, images: 0, totalImages: 0 });
    st().applyDeployMessage({ type: 'deploy-started', ...ARTIFACTS });
    expect(st().deploy.artifacts).toEqual(ARTIFACTS);
    expect(st().deploy.job.totalImages).toBe(64);
    st().deploySimProgress({ images: 32, imagesPerSecond: 500 });
    st().applyDeployMessage({ type: 'deploy-progress', images: 32, totalImages: 64 });
    st().deploySimProgress({ images: 32, imagesPerSecond: 700 });
    expect(st().deploy.job).toMatchObject({ images: 32, simImages: 64, simImagesPerSecond: 700 });
    st().applyDeployMessage({ type: 'deploy-done', result: RESULT });
    expect(st().deploy.job).toMatchObject({ status: 'idle', outcome: 'done', images: 64, totalImages: 64 });
    expect(st().deploy.result).toBe(RESULT);
    // A late progress message changes nothing.
    st().applyDeployMessage({ type: 'deploy-progress', images: 1, totalImages: 64 });
    expect(st().deploy.job.images).toBe(64);

    // A new check drops the old artifacts and result.
    st().beginDeploy();
    expect(st().deploy.artifacts).toBeNull();
    expect(st().deploy.result).toBeNull();
  });

  it('cancel and errors end the job; clearing waits for the job to end', () => {
    const s = store();
    const st = () => s.getState();
    st().requestDeployCancel();
    expect(st().deploy.job.status).toBe('idle');
    st().beginDeploy();
    st().applyDeployMessage({ type: 'deploy-started', ...ARTIFACTS });
    st().requestDeployCancel();
    expect(st().deploy.job.status).toBe('cancelling');
    st().clearDeploy(); // not while a job runs
    expect(st().deploy.artifacts).not.toBeNull();
    st().applyDeployMessage({ type: 'deploy-cancelled' });
    expect(st().deploy.job).toMatchObject({ status: 'idle', outcome: 'cancelled' });
    expect(st().deploy.artifacts).toEqual(ARTIFACTS); // the files made before the cancel stay downloadable

    st().beginDeploy();
    st().applyDeployMessage({ type: 'deploy-error', message: 'no calibrated or QAT model: calibrate or run QAT first' });
    expect(st().deploy.job).toMatchObject({ status: 'idle', outcome: 'error', error: expect.stringMatching(/calibrate or run QAT first/) });
    st().beginDeploy();
    st().deployFailed('simulator worker failed');
    expect(st().deploy.job).toMatchObject({ status: 'idle', outcome: 'error', error: 'simulator worker failed' });

    st().beginDeploy();
    st().applyDeployMessage({ type: 'deploy-started', ...ARTIFACTS });
    st().applyDeployMessage({ type: 'deploy-done', result: RESULT });
    st().clearDeploy();
    expect(st().deploy.artifacts).toBeNull();
    expect(st().deploy.result).toBeNull();
    expect(st().deploy.job.outcome).toBeNull();
  });
});

describe('deploy helpers', () => {
  it('overlays per metric by node id; an exact layer gets the best finite SQNR', () => {
    const o = overlaysOf(RESULT.layers);
    expect(o.sqnr).toEqual({ conv1: 30, fc: 40, quant: 40 });
    expect(o.maxLsb).toEqual({ conv1: 1, fc: 0.5, quant: 0 });
    expect(o.cosine.quant).toBe(1);
    expect(overlaysOf([layer('a', Infinity, 0)]).sqnr.a).toBe(100);
    expect(metricOf(RESULT.layers[0], 'sqnr')).toBe(30);
    expect(metricOf(RESULT.layers[0], 'maxLsb')).toBe(1);
  });

  it('writes the report (null for non-finite numbers) and names the files', () => {
    const s = store();
    expect(deployReport(s.getState().deploy, { data: 'fashion-mnist', createdAt: 't' })).toBeNull();
    s.getState().beginDeploy();
    s.getState().applyDeployMessage({ type: 'deploy-started', ...ARTIFACTS });
    s.getState().applyDeployMessage({ type: 'deploy-done', result: RESULT });
    const r = deployReport(s.getState().deploy, { data: 'fashion-mnist', createdAt: 't' })!;
    const json = JSON.parse(new TextDecoder().decode(reportBytes(r)));
    expect(json).toMatchObject({ model: 'cnn-small', source: 'qat', march: 'bayes', data: { name: 'fashion-mnist', split: 'test', images: 64 } });
    expect(json.int).toMatchObject({ agreement_top1: 98.4375, acc1: 68.75, qat_acc1: 70, sim_images_per_s: null });
    expect(json.int.layers.map((l: { name: string }) => l.name)).toEqual(['conv1', 'fc', 'quant']);
    expect(json.int.layers[2].sqnr_db).toBeNull();
    expect(json.compile).toMatchObject({ model_file_bytes: 4, onnx_bytes: 2, onnx_error: null, accumulators: { at_risk: [], saturated_biases: [], worst_bits: 20 } });
    expect(json.compile.perf[0]).toMatchObject({ march: 'bayes', latency_ms: 0.01, ddr_bytes: 300 });
    expect(deployFileNames('cnn-small', 'qat')).toEqual({ modelFile: 'cnn-small-qat.qsbin', onnx: 'cnn-small-qat.qdq.onnx', torch: 'cnn-small-qat-torch.zip', report: 'cnn-small-qat-deploy-report.json' });
  });
});

describe('deploy results in a saved project', () => {
  it('restore brings back the settings, files and result as a finished check', () => {
    const s = store();
    s.getState().restoreDeploy({ settings: { ...DEFAULT_DEPLOY_SETTINGS, images: 64 }, artifacts: ARTIFACTS, result: RESULT });
    expect(s.getState().deploy.result).toBe(RESULT);
    expect(s.getState().deploy.artifacts).toBe(ARTIFACTS);
    expect(s.getState().deploy.job).toMatchObject({ status: 'idle', outcome: 'done', images: 64 });
    expect(s.getState().deploy.settings.images).toBe(64);
  });

  it('survives a project file (JSON writes the exact layer\'s infinite SQNR as null; it comes back as Infinity)', async () => {
    const { encodeProjectFile, decodeProjectFile } = await import('../src/ui/persist/project-file.ts');
    const { DEFAULT_SETTINGS } = await import('../src/ui/store/training-slice.ts');
    const snap = {
      version: 1, modelName: 'cnn-small', imported: null, settings: { ...DEFAULT_SETTINGS },
      prep: { normalize: 'pixel/255', yuv: false }, data: null,
      quant: { settings: {}, calib: null, qat: null }, float: null, checkpoints: {},
      deploy: { settings: DEFAULT_DEPLOY_SETTINGS, artifacts: ARTIFACTS, result: RESULT },
    } as unknown as Parameters<typeof encodeProjectFile>[0];
    const back = decodeProjectFile(encodeProjectFile(snap), 'p.qsproj');
    expect(back.deploy!.result.layers.map((l) => l.sqnr_db)).toEqual([30, 40, Infinity]);
    expect(Array.from(back.deploy!.artifacts!.modelFile)).toEqual(Array.from(ARTIFACTS.modelFile));
  });
});
