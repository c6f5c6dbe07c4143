/**
 * The peer: TensorFlow.js 4.22 with its webgpu backend, in Node, on the SAME GPUDevice as our engine.
 *
 * TF.js's webgpu backend looks for `navigator.gpu` (Node 20 has no `navigator`), and its own
 * registration asks `navigator.gpu.requestAdapter()` in core mode, which the OpenGL ES (llvmpipe)
 * adapter does not offer. So we register the 'webgpu' backend ourselves with a factory that wraps
 * the device our engine already acquired: `new WebGPUBackend(device, adapterInfo)` is TF.js's public
 * constructor (it is what its own factory calls). The kernels stay registered under 'webgpu', so
 * the backend must keep that name. Sharing one device means one adapter, one queue and the same
 * limits for both engines by construction; the bench still prints and compares both descriptions.
 *
 * The graph interpreter that runs our model IR in TF.js is in tfjs-model.ts (re-exported here).
 */
import * as tf from '@tensorflow/tfjs-core';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import type { WebGPUBackend as WebGPUBackendT } from '@tensorflow/tfjs-backend-webgpu';
import { describeAdapterInfo } from './adapter-info.ts';

export const PEER_NAME = `tfjs-webgpu ${tf.version_core}`;

export interface TfjsPeer {
  name: string;
  /** The adapter as TF.js's device reports it. */
  adapter: string;
  backend: WebGPUBackendT;
}

/**
 * Registers TF.js's gradient functions. They are not part of tfjs-core's Node bundle: the union
 * package `@tensorflow/tfjs` inlines `@tensorflow/tfjs-core/dist/register_all_gradients` into its
 * own bundle, and the ESM file cannot be imported by Node directly (extensionless and directory
 * imports). We do what the union package's build does, in memory with esbuild (already installed
 * with tsx). The registries and the engine live on globalThis (`_tfGlobals`, `_tfengine`), so the
 * bundled copy registers into the same registry and its ops run on the same engine.
 */
async function registerAllGradients(): Promise<void> {
  if (tf.getGradient('Conv2D')) return;
  const entry = fileURLToPath(import.meta.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js'));
  const out = await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'neutral', write: false, logLevel: 'error', mainFields: ['module', 'main'] });
  const code = out.outputFiles[0].text;
  await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
  if (!tf.getGradient('Conv2D')) throw new Error('TF.js gradients did not register into the shared registry');
}

export async function createTfjsPeer(gpu: GPU, device: GPUDevice): Promise<TfjsPeer> {
  const g = globalThis as unknown as { navigator?: { gpu?: GPU } };
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  else if (!g.navigator.gpu) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  await registerAllGradients();
  // Imported after navigator.gpu exists (the module checks it at load time).
  const webgpu = await import('@tensorflow/tfjs-backend-webgpu');
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new webgpu.WebGPUBackend(device, info), 3);
  if (!(await tf.setBackend('webgpu'))) throw new Error('TF.js: could not initialise the webgpu backend on our device');
  await tf.ready();
  const backend = tf.backend() as WebGPUBackendT;
  if (backend.device !== device) throw new Error('TF.js webgpu backend is not on the shared device');
  return { name: PEER_NAME, adapter: describeAdapterInfo((backend.device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo), backend };
}

export { TfjsModel, tfjsTrainStep, tf } from './tfjs-model.ts';
export { describeAdapterInfo };
