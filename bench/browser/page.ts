/**
 * The browser half of `npm run bench -- --browser` (bundled by bench/browser.ts, run in Chromium): the training rows
 * of the Node bench, in one page. Our engine takes the page's WebGPU adapter exactly as the studio does
 * (acquireDevice on navigator.gpu); TF.js's webgpu backend is registered on that same GPUDevice, so both sides share
 * the adapter, the device and its queue by construction. The cases, the timing and the rows are the Node bench's own
 * (bench/cases/train.ts, bench/harness.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { acquireDevice } from '../../src/engine/webgpu/device.ts';
import { WebGpuBackend } from '../../src/engine/webgpu/webgpu-backend.ts';
import { describeAdapterInfo } from '../adapter-info.ts';
import { benchOptions, formatTable, type Row, type RowDetail } from '../harness.ts';
import { trainCase } from '../cases/train.ts';

export interface BrowserBenchRequest { quick: boolean; models: string[]; batch: number }
export interface BrowserBenchResult {
  adapter: string; peer_adapter: string; peer: string; user_agent: string; is_fallback_adapter: boolean;
  rows: Row[]; details: RowDetail[]; seconds: number;
}

declare global {
  interface Window {
    runBench(req: BrowserBenchRequest): Promise<BrowserBenchResult>;
    benchLog(line: string): void;
  }
}

window.runBench = async (req) => {
  const t0 = performance.now();
  const log = (s: string) => window.benchLog(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${s}`);
  if (!navigator.gpu) throw new Error('this Chromium exposes no navigator.gpu (start it with --enable-unsafe-webgpu)');
  const d = await acquireDevice(navigator.gpu);
  const be = new WebGpuBackend(d.device, d.adapterName);
  const info = (d.device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  // The package registers its own 'webgpu' factory (its own adapter and device) on import: replace it with one on ours.
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new WebGPUBackend(d.device, info), 3);
  if (!(await tf.setBackend('webgpu'))) throw new Error('TF.js: could not initialise the webgpu backend on our device');
  await tf.ready();
  const tb = tf.backend() as WebGPUBackend;
  if (tb.device !== d.device) throw new Error('TF.js webgpu backend is not on the shared device');
  const peer = { name: `tfjs-webgpu ${tf.version_core}` };
  const oursAdapter = describeAdapterInfo(info);
  const peerAdapter = describeAdapterInfo((tb.device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo);
  if (oursAdapter !== peerAdapter) throw new Error(`ADAPTER MISMATCH: ours "${oursAdapter}" vs peer "${peerAdapter}"`);
  log(`ours: ${be.adapter}${d.isFallback ? ' (fallback adapter)' : ''}; peer: ${peer.name} on the same GPUDevice`);
  const o = benchOptions(req.quick);
  const rows: Row[] = [];
  const details: RowDetail[] = [];
  for (const m of req.models) {
    log(`training ${m}, batch ${req.batch}`);
    const r = await trainCase(be, peer, m, req.batch, o, log);
    rows.push(r.row);
    details.push(r.detail);
    log(`  ${r.row.case}: ours ${r.row.ours.toFixed(1)}, peer ${r.row.peer_value.toFixed(1)} images/s`);
  }
  log(`\n${formatTable(rows)}`);
  return {
    adapter: be.adapter, peer_adapter: peerAdapter, peer: peer.name, user_agent: navigator.userAgent, is_fallback_adapter: d.isFallback,
    rows, details, seconds: (performance.now() - t0) / 1000,
  };
};
