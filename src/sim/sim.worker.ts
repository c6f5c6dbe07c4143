/**
 * The simulator worker: loads a model file and runs batches through the integer simulator (run.ts) off the page's
 * main thread, speaking protocol.ts. The message handling is `createSimHost` (plain functions, used as is by the
 * in-process host of client.ts in Node and in tests); the last lines bind it to the worker global when this module
 * runs as a dedicated worker.
 */
import { intModelOutputs, type IntModel } from './model.ts';
import { acquireDevice } from '../engine/webgpu/device.ts';
import { GpuContext } from '../engine/webgpu/gpu-context.ts';
import { decodeModelFile } from './model-file.ts';
import { runIntModel } from './run.ts';
import { releaseGpuModel, runIntModelGpu } from './run-gpu.ts';
import { LiveGpu } from './live-gpu.ts';
import {
  isSimRequest, simErrorText, transferables, type SimDevice, type SimDumpTensor, type SimRequest, type SimResponse,
} from './protocol.ts';
import { reportUnhandledRejections } from '../workers/worker-scope.ts';

export interface SimHostDeps {
  post(msg: SimResponse, transfer?: ArrayBuffer[]): void;
  /** Yields to the event loop between batches so that a cancel can arrive (default: a macrotask). */
  yieldNow?(): Promise<void>;
  /**
   * The GPU context of device 'webgpu', asked for on the first such load (default: a device from the global
   * navigator.gpu, as in a browser worker; Node passes one from the `webgpu` package). Asked again after the
   * device was lost (live-gpu.ts), so it should return a fresh device then.
   */
  gpu?(): Promise<GpuContext>;
}

/** A GpuContext on navigator.gpu (browser pages and workers). */
async function navigatorGpu(): Promise<GpuContext> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) throw new Error('device webgpu: WebGPU is not available here (no navigator.gpu)');
  const d = await acquireDevice(gpu);
  return new GpuContext(d.device);
}

const macrotask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export function createSimHost(deps: SimHostDeps): (req: SimRequest) => void {
  const yieldNow = deps.yieldNow ?? macrotask;
  const post = (m: SimResponse) => deps.post(m, transferables(m));
  let model: IntModel | null = null;
  let device: SimDevice = 'cpu';
  const gpu = new LiveGpu(deps.gpu ?? navigatorGpu);
  const cancelled = new Set<number>();
  let chain: Promise<void> = Promise.resolve();

  const run = async (req: Extract<SimRequest, { type: 'run' }>) => {
    if (!model) throw new Error('no model loaded: send a load request first');
    const m = model;
    const start = performance.now();
    const totalImages = req.batches.reduce((s, b) => s + b.n, 0);
    const outputs: Float32Array[] = [];
    const allOutputs: Float32Array[][] = [];
    const dumps: Record<string, SimDumpTensor>[] = [];
    let images = 0;
    for (let i = 0; i < req.batches.length; i++) {
      await yieldNow();
      if (cancelled.has(req.job)) {
        post({ type: 'cancelled', job: req.job });
        return;
      }
      const b = req.batches[i];
      const r = device === 'webgpu' ? await gpu.run((ctx) => runIntModelGpu(m, b.x, b.n, ctx, { dump: req.dump })) : runIntModel(m, b.x, b.n, { dump: req.dump });
      outputs.push(r.output);
      allOutputs.push(r.outputs.map((o) => o.output));
      if (req.dump) dumps.push(Object.fromEntries([...r.dumps].map(([id, t]) => [id, { data: t.data, shape: t.shape }])));
      images += b.n;
      const seconds = (performance.now() - start) / 1000;
      post({ type: 'progress', job: req.job, batch: i + 1, batches: req.batches.length, images, totalImages, imagesPerSecond: images / Math.max(seconds, 1e-9) });
    }
    const seconds = (performance.now() - start) / 1000;
    const several = m.outputs !== undefined && m.outputs.length > 1;
    post({ type: 'result', job: req.job, outputs, ...(several ? { allOutputs } : {}), ...(req.dump ? { dumps } : {}), seconds, imagesPerSecond: images / Math.max(seconds, 1e-9) });
  };

  return (req: SimRequest) => {
    if (req.type === 'cancel') {
      cancelled.add(req.job);
      return;
    }
    // Requests run one after another; a cancel is handled at once (between two batches of the run it names).
    chain = chain.then(async () => {
      try {
        if (req.type === 'load') {
          const want = req.device ?? 'cpu';
          if (want !== 'cpu' && want !== 'webgpu') throw new Error(`unknown simulator device "${String(want)}" (cpu | webgpu)`);
          const next = decodeModelFile(req.bytes, req.file ?? 'model file');
          if (want === 'webgpu') await gpu.get(); // a failed acquisition is retried by the next load
          const live = await gpu.current();
          if (model && live && model !== next) releaseGpuModel(model, live);
          model = next;
          device = want;
          post({
            type: 'loaded', job: req.job,
            info: { name: model.name, march: model.march, inputShape: model.inputShape, numClasses: model.numClasses, layers: model.layers.length, values: Object.keys(model.values), device, outputs: intModelOutputs(model).length },
          });
        } else if (cancelled.has(req.job)) {
          post({ type: 'cancelled', job: req.job });
        } else {
          await run(req);
        }
      } catch (e) {
        post({ type: 'error', job: req.job, message: simErrorText(e) });
      } finally {
        cancelled.delete(req.job);
      }
    });
  };
}

// Bind to the worker global when this module runs as a dedicated worker.
if (typeof WorkerGlobalScope !== 'undefined' && typeof self !== 'undefined' && self instanceof WorkerGlobalScope) {
  const scope = self as unknown as DedicatedWorkerGlobalScope;
  reportUnhandledRejections(scope);
  const handle = createSimHost({ post: (m, transfer) => scope.postMessage(m, transfer ?? []) });
  scope.onmessage = (ev: MessageEvent<unknown>) => {
    if (isSimRequest(ev.data)) handle(ev.data);
  };
}
