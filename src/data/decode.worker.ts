/**
 * The decode worker: reads dropped files, decodes PNG/JPEG with createImageBitmap + OffscreenCanvas,
 * and builds the data set with dropped.ts, off the page's main thread. `createDecodeHost` is plain
 * (testable with a fake decoder); the last lines bind it to the worker global.
 */
import type { TrainTestData } from './dataset.ts';
import type { DecodeMessage, DecodeRequest } from './decode-protocol.ts';
import { decodeDropped } from './dropped.ts';
import { DataFormatError } from './errors.ts';
import { builtinSplitText, loadFashionMnist } from './fashion-mnist.ts';
import { formatBytes, LIMITS } from './limits.ts';
import type { ImageDecoder } from './image-folder.ts';
import { summarize } from './summary.ts';
import { reportUnhandledRejections } from '../workers/worker-scope.ts';

export interface DecodeHostDeps {
  post(m: DecodeMessage, transfer?: Transferable[]): void;
  decodeImage: ImageDecoder;
  loadBuiltin?(): Promise<TrainTestData>;
  readBlob?(b: Blob): Promise<Uint8Array>;
}

export const browserImageDecoder: ImageDecoder = async (bytes) => {
  let bmp: ImageBitmap;
  try {
    bmp = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]));
  } catch {
    // The browser only says "The source image could not be decoded"; the headers were already checked.
    throw new Error('the browser\'s decoder rejected its compressed pixel data');
  }
  try {
    const canvas = new OffscreenCanvas(bmp.width, bmp.height);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2d context');
    ctx.drawImage(bmp, 0, 0);
    return { width: bmp.width, height: bmp.height, rgba: ctx.getImageData(0, 0, bmp.width, bmp.height).data };
  } finally {
    bmp.close();
  }
};

export function createDecodeHost(deps: DecodeHostDeps): (req: DecodeRequest) => Promise<void> {
  const read = deps.readBlob ?? (async (b: Blob) => new Uint8Array(await b.arrayBuffer()));
  return async (req) => {
    try {
      if (req.type === 'load-builtin') {
        const d = await (deps.loadBuiltin ?? loadFashionMnist)();
        deps.post({ type: 'decoded', id: req.id, summary: summarize(d, 'builtin', builtinSplitText(d.train.count, d.test.count), 'fashion-mnist (built-in)'), data: null });
        return;
      }
      const files = [];
      for (let i = 0; i < req.files.length; i++) {
        const { path, blob } = req.files[i];
        if (blob.size > LIMITS.fileBytes) throw new DataFormatError(path, `is ${formatBytes(blob.size)}, over the limit of ${formatBytes(LIMITS.fileBytes)} for one file`);
        files.push({ path, bytes: await read(blob) });
        deps.post({ type: 'progress', id: req.id, done: i + 1, total: req.files.length, stage: 'reading files' });
      }
      const out = await decodeDropped(files, deps.decodeImage, {
        resize: req.resize, source: req.source,
        onProgress: (done, total, stage) => deps.post({ type: 'progress', id: req.id, done, total, stage }),
      });
      const summary = summarize(out.data, out.kind, out.split);
      const { train, test } = out.data;
      deps.post({ type: 'decoded', id: req.id, summary, data: out.data }, [train.images.buffer, train.labels?.buffer, test.images.buffer, test.labels?.buffer]
        .filter((b, i, a) => b && a.indexOf(b) === i) as ArrayBuffer[]);
    } catch (e) {
      const file = e instanceof DataFormatError ? e.file : req.type === 'decode' ? req.source : 'built-in data';
      const text = e instanceof Error ? e.message : String(e);
      // Anything that is not a DataFormatError (out of memory, a bug) still names what was being read.
      deps.post({ type: 'failed', id: req.id, file, message: e instanceof DataFormatError ? text : `${file}: could not be read (${text})` });
    }
  };
}

if (typeof WorkerGlobalScope !== 'undefined' && typeof self !== 'undefined' && self instanceof WorkerGlobalScope) {
  const scope = self as unknown as DedicatedWorkerGlobalScope;
  reportUnhandledRejections(scope);
  const handle = createDecodeHost({ post: (m, t) => scope.postMessage(m, t ?? []), decodeImage: browserImageDecoder });
  scope.onmessage = (ev: MessageEvent<DecodeRequest>) => void handle(ev.data);
}
