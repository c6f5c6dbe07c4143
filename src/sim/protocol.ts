/**
 * The typed message protocol between the page (or the CLI) and the simulator worker (sim.worker.ts).
 * Every request carries a `job` id that its answers repeat.
 *
 * Client -> worker (SimRequest):
 *   load {job, bytes, device?}         a model file (model-file.ts) to load; answered by `loaded` or `error`;
 *                                      device 'cpu' (default: runIntModel) or 'webgpu' (runIntModelGpu, the WGSL
 *                                      integer kernels; the same integers; `error` when no adapter is available)
 *   run  {job, batches, dump?}         float inputs [n, C, H, W] per batch; answered by `progress` after each
 *                                      batch, then `result` (or `cancelled` / `error`)
 *   cancel {job}                       stop a run between two batches; answered by `cancelled`
 *                                      (the client also terminates a worker that does not answer: see client.ts)
 *
 * Worker -> client (SimResponse):
 *   loaded {job, info}                 the model's name, march, input shape, layer count, the device it runs on
 *   progress {job, batch, batches, images, totalImages, imagesPerSecond}
 *   result {job, outputs, dumps?, seconds, imagesPerSecond}
 *                                      outputs: dequantized float logits per batch (outside the DeQuantStub)
 *                                      allOutputs: per batch, every output in the model's order, when it has several
 *                                      dumps: per batch, the requested integer values by layer id
 *   cancelled {job}
 *   error {job, message}               any failure, carried back as a message (a corrupt file, a shape error...)
 *
 * Nothing here imports the simulator or the DOM.
 */

export interface SimBatch {
  x: Float32Array;
  n: number;
}

/** Where the simulator runs a model: the CPU kernels or the WGSL integer kernels (bit-identical). */
export type SimDevice = 'cpu' | 'webgpu';

export interface SimModelInfo {
  name: string;
  march: string;
  inputShape: number[];
  numClasses: number;
  layers: number;
  /** Number of outputs (absent from older hosts: 1). */
  outputs?: number;
  /** Ids of the values that can be dumped. */
  values: string[];
  /** The device the model runs on (absent from older hosts: cpu). */
  device?: SimDevice;
}

/** One integer value of a dump (the typed array keeps its integer type across postMessage). */
export interface SimDumpTensor {
  data: Int8Array | Uint8Array | Int16Array | Int32Array;
  shape: number[];
}

export type SimRequest =
  | { type: 'load'; job: number; bytes: Uint8Array; file?: string; device?: SimDevice }
  | { type: 'run'; job: number; batches: SimBatch[]; dump?: boolean | string[] }
  | { type: 'cancel'; job: number };

export interface SimProgress {
  batch: number;
  batches: number;
  images: number;
  totalImages: number;
  imagesPerSecond: number;
}

export interface SimRunOutput {
  /** The (first) output, per batch. */
  outputs: Float32Array[];
  /** Per batch, every output of a model with several (the first is outputs[batch]); absent for one output. */
  allOutputs?: Float32Array[][];
  dumps?: Record<string, SimDumpTensor>[];
  seconds: number;
  imagesPerSecond: number;
}

export type SimResponse =
  | { type: 'loaded'; job: number; info: SimModelInfo }
  | ({ type: 'progress'; job: number } & SimProgress)
  | ({ type: 'result'; job: number } & SimRunOutput)
  | { type: 'cancelled'; job: number }
  | { type: 'error'; job: number; message: string };

export type SimResponseType = SimResponse['type'];

const RESPONSE_TYPES: ReadonlySet<string> = new Set<SimResponseType>(['loaded', 'progress', 'result', 'cancelled', 'error']);
const REQUEST_TYPES: ReadonlySet<string> = new Set<SimRequest['type']>(['load', 'run', 'cancel']);

export function isSimResponse(x: unknown): x is SimResponse {
  return typeof x === 'object' && x !== null && RESPONSE_TYPES.has((x as { type?: unknown }).type as string)
    && typeof (x as { job?: unknown }).job === 'number';
}

export function isSimRequest(x: unknown): x is SimRequest {
  return typeof x === 'object' && x !== null && REQUEST_TYPES.has((x as { type?: unknown }).type as string)
    && typeof (x as { job?: unknown }).job === 'number';
}

/** The text of an error of any shape, for `error` messages. */
export function simErrorText(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}

/** The ArrayBuffers of a response that can be transferred instead of copied. */
export function transferables(msg: SimResponse | SimRequest): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const add = (a: ArrayBufferView) => {
    if (a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) out.add(a.buffer);
  };
  if (msg.type === 'result') {
    msg.outputs.forEach(add);
    msg.allOutputs?.forEach((b) => b.slice(1).forEach(add));
    msg.dumps?.forEach((d) => Object.values(d).forEach((t) => add(t.data)));
  }
  return [...out];
}
