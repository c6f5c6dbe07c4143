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
import type { ImageDecoder } from './image-folder.ts';
import { summarize } from './summary.ts';

export interface DecodeHostDeps {
  post(m: DecodeMessage, transfer?: Transferable[]): void;
  decodeImage: ImageDecoder;
  loadBuiltin?(): Promise<TrainTestData>;
  readBlob?(b: Blob): Promise<Uint8Array>;
}

export const browserImageDecoder: ImageDecoder = async (bytes) => {
  const bmp = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]));
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
        files.push({ path: req.files[i].path, bytes: await read(req.files[i].blob) });
        deps.post({ type: 'progress', id: req.id, done: i + 1, total: req.files.length, stage: 'reading files' });
      }
      const out = await decodeDropped(files, deps.decodeImage, {
        resize: req.resize, source: req.source,
        onProgress: (done, total, stage) => deps.post({ type: 'progress', id: req.id, done, total, stage }),
      });
      const summary = summarize(out.data, out.kind, out.split);
      const { train, test } = out.data;
      deps.post({ type: 'decoded', id: req.id, summary, data: out.data }, [train.images.buffer, train.labels.buffer, test.images.buffer, test.labels.buffer]
        .filter((b, i, a) => a.indexOf(b) === i) as ArrayBuffer[]);
    } catch (e) {
      const file = e instanceof DataFormatError ? e.file : req.type === 'decode' ? req.source : 'built-in data';
      deps.post({ type: 'failed', id: req.id, file, message: e instanceof Error ? e.message : String(e) });
    }
  };
}

if (typeof WorkerGlobalScope !== 'undefined' && typeof self !== 'undefined' && self instanceof WorkerGlobalScope) {
  const scope = self as unknown as DedicatedWorkerGlobalScope;
  const handle = createDecodeHost({ post: (m, t) => scope.postMessage(m, t ?? []), decodeImage: browserImageDecoder });
  scope.onmessage = (ev: MessageEvent<DecodeRequest>) => void handle(ev.data);
}
