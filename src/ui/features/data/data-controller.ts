/**
 * Data intents: load the built-in set, decode dropped files in the decode worker, and keep the
 * training worker on the same data (set-data is sent before the next job whenever the data or its
 * preprocessing changed). No React here.
 */
import type { DecodeMessage, DecodeRequest, DroppedFile } from '../../../data/decode-protocol.ts';
import type { TrainingClient } from '../../../train/client.ts';
import { WorkerBridge, type BridgeProtocol } from '../../../workers/bridge.ts';
import type { WorkerLike } from '../../../workers/worker-slot.ts';
import { normalizationOf, type DataState } from '../../store/data-slice.ts';
import type { StudioStore } from '../../store/studio-store.ts';
import { dataIdentity } from '../../scope/identity.ts';

/** The decode worker's surface (a DOM Worker has it; tests pass fakes). */
export type DecodeWorkerLike = WorkerLike<DecodeRequest>;

type DecodeResult = Extract<DecodeMessage, { type: 'decoded' | 'failed' }>;
type DecodeProgress = Extract<DecodeMessage, { type: 'progress' }>;
type DecodeCalls = {
  'load-builtin': { request: Record<string, never>; response: DecodeResult; progress: DecodeProgress };
  decode: { request: Omit<Extract<DecodeRequest, { type: 'decode' }>, 'type' | 'id'>; response: DecodeResult; progress: DecodeProgress };
};

/** The decode worker's protocol (decode-protocol.ts): `decoded` and `failed` end a call, `progress` reports on it. */
const DECODE_PROTOCOL: BridgeProtocol<DecodeCalls> = {
  name: 'decode',
  idleMs: 30_000, // decoding holds nothing between data sets
  request: (method, id, r) => ({ message: (method === 'load-builtin' ? { type: 'load-builtin', id } : { type: 'decode', id, ...(r as DecodeCalls['decode']['request']) }) satisfies DecodeRequest }),
  reply: (d) => {
    const m = d as Partial<DecodeMessage> | null;
    if (!m || typeof m.id !== 'number') return null;
    if (m.type === 'progress') return { id: m.id, kind: 'progress', value: m };
    if (m.type === 'decoded' || m.type === 'failed') return { id: m.id, kind: 'result', value: m };
    return null;
  },
};

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
  const bridge = new WorkerBridge<DecodeCalls, DecodeWorkerLike>(DECODE_PROTOCOL, spawn);
  /** The request in flight; a newer one aborts it (terminating its worker if it is decoding). */
  let inFlight: AbortController | null = null;
  let sent: { dataset: DataState['dataset']; prep: string } | null = null;
  const st = () => store.getState();

  const run = async <M extends keyof DecodeCalls & string>(method: M, request: DecodeCalls[M]['request'], source: string) => {
    inFlight?.abort(); // a newer request supersedes the one in flight
    const mine = new AbortController();
    inFlight = mine;
    st().dataDecoding();
    let m: DecodeResult;
    try {
      m = await bridge.call(method, request, {
        signal: mine.signal,
        onProgress: (p) => st().dataProgress({ done: p.done, total: p.total, stage: p.stage }),
      });
    } catch (e) {
      if (mine.signal.aborted) return; // superseded or disposed
      st().dataFailed(source, e instanceof Error ? e.message : String(e)); // the worker crashed: "decode worker failed: ..."
      return;
    } finally {
      if (inFlight === mine) inFlight = null;
    }
    if (m.type === 'failed') st().dataFailed(m.file, m.message);
    else {
      st().dataLoaded(m.summary, m.data);
      st().touchProject();
    }
  };

  return {
    loadBuiltin() {
      void run('load-builtin', {}, 'built-in data');
    },
    decode(files, source) {
      void run('decode', { files, resize: st().data.prep.resize, source }, source);
    },
    sync() {
      const d = st().data;
      const key = dataIdentity(d)?.key;
      const prepKey = JSON.stringify([d.prep.yuv, normalizationOf(d), key, !!d.prep.withoutLabels]);
      if (sent && sent.dataset === d.dataset && sent.prep === prepKey) return;
      const k = key ? { key } : {};
      client.setData(d.dataset ? { kind: 'custom', data: d.dataset, ...k } : { kind: 'builtin', ...k }, { yuv: d.prep.yuv, normalize: normalizationOf(d), ...(d.prep.withoutLabels ? { withoutLabels: true } : {}) });
      sent = { dataset: d.dataset, prep: prepKey };
    },
    dispose() {
      inFlight?.abort();
      bridge.dispose();
    },
  };
}
