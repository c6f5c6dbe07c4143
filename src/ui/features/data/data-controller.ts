/**
 * Data intents: load the built-in set, decode dropped files in the decode worker, and keep the
 * training worker on the same data (set-data is sent before the next job whenever the data or its
 * preprocessing changed). No React here.
 */
import type { DecodeMessage, DecodeRequest, DroppedFile } from '../../../data/decode-protocol.ts';
import type { TrainingClient } from '../../../train/client.ts';
import { normalizationOf, type DataState } from '../../store/data-slice.ts';
import type { StudioStore } from '../../store/studio-store.ts';
import { dataIdentity } from '../../scope/identity.ts';

export interface DecodeWorkerLike {
  postMessage(m: DecodeRequest): void;
  onmessage: ((ev: { data: DecodeMessage }) => void) | null;
  terminate(): void;
}

export interface DataController {
  loadBuiltin(): void;
  decode(files: DroppedFile[], source: string): void;
  /** Sends set-data to the training worker if the data or its preprocessing changed since the last send. */
  sync(): void;
  dispose(): void;
}

export function spawnDecodeWorker(): DecodeWorkerLike {
  return new Worker(new URL('../../../data/decode.worker.ts', import.meta.url), { type: 'module', name: 'decode' }) as unknown as DecodeWorkerLike;
}

export function createDataController(store: StudioStore, client: TrainingClient, spawn: () => DecodeWorkerLike): DataController {
  let worker: DecodeWorkerLike | null = null;
  let seq = 0;
  let sent: { dataset: DataState['dataset']; prep: string } | null = null;
  const st = () => store.getState();

  const onMessage = (m: DecodeMessage) => {
    if (m.id !== seq) return; // an answer to a superseded request
    if (m.type === 'progress') st().dataProgress({ done: m.done, total: m.total, stage: m.stage });
    else if (m.type === 'failed') st().dataFailed(m.file, m.message);
    else {
      st().dataLoaded(m.summary, m.data);
      st().touchProject();
    }
  };
  const post = (req: DecodeRequest) => {
    if (!worker) {
      worker = spawn();
      worker.onmessage = (ev) => onMessage(ev.data);
    }
    worker.postMessage(req);
  };

  return {
    loadBuiltin() {
      st().dataDecoding();
      post({ type: 'load-builtin', id: ++seq });
    },
    decode(files, source) {
      st().dataDecoding();
      post({ type: 'decode', id: ++seq, files, resize: st().data.prep.resize, source });
    },
    sync() {
      const d = st().data;
      const key = dataIdentity(d)?.key;
      const prepKey = JSON.stringify([d.prep.yuv, normalizationOf(d), key]);
      if (sent && sent.dataset === d.dataset && sent.prep === prepKey) return;
      const k = key ? { key } : {};
      client.setData(d.dataset ? { kind: 'custom', data: d.dataset, ...k } : { kind: 'builtin', ...k }, { yuv: d.prep.yuv, normalize: normalizationOf(d) });
      sent = { dataset: d.dataset, prep: prepKey };
    },
    dispose() {
      worker?.terminate();
      worker = null;
    },
  };
}
