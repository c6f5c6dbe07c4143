/**
 * The worker bridge (src/workers/bridge.ts, worker-slot.ts) with real workers: Node worker threads running a test
 * protocol (tests/helpers/bridge-test.worker.ts) and the simulator host (tests/helpers/sim-thread.worker.ts) behind
 * the DOM Worker surface. Queue order, progress, errors as rejections, a crash (uncaught exception, process exit) →
 * a clear error → a fresh thread for the next call, cancel by AbortSignal → the thread really ends, idle shutdown,
 * an unsendable request, and the simulator client across a real thread boundary (cancel, then the model reloaded in
 * a fresh thread, bit-identical results).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerBridge, type BridgeProtocol } from '../src/workers/bridge.ts';
import type { WorkerLike } from '../src/workers/worker-slot.ts';
import { rejectionError } from '../src/workers/worker-scope.ts';
import { SimClient, SimJobError } from '../src/sim/client.ts';
import { encodeModelFile } from '../src/sim/model-file.ts';
import { runIntModel } from '../src/sim/run.ts';
import { buildModel } from '../src/models/zoo.ts';
import { initHostParams } from '../src/nn/params.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { convert } from '../src/quant/convert.ts';
import { spawnNodeWorker, type NodeWorker } from './helpers/node-worker.ts';
import { mulberry32 } from './helpers/random.ts';

type Echo = { threadId: number; arg?: number; steps?: number };
type TestCalls = {
  echo: { request: number; response: Echo };
  steps: { request: number; response: Echo; progress: number };
  hang: { request: number; response: Echo };
  throw: { request: number; response: Echo };
  exit: { request: number; response: Echo };
  foreign: { request: number; response: Echo };
  fail: { request: unknown; response: Echo };
};

const protocol = (idleMs = 0): BridgeProtocol<TestCalls> => ({
  name: 'test',
  idleMs,
  request: (op, id, arg) => ({ message: { id, op, arg } }),
  reply: (d) => {
    const m = d as { id?: unknown; progress?: number; result?: Echo; error?: string };
    if (typeof m?.id !== 'number') return null;
    if (m.progress !== undefined) return { id: m.id, kind: 'progress', value: m.progress };
    if (m.error !== undefined) return { id: m.id, kind: 'error', message: m.error };
    return { id: m.id, kind: 'result', value: m.result };
  },
});

const TEST_WORKER = new URL('./helpers/bridge-test.worker.ts', import.meta.url);
const SIM_WORKER = new URL('./helpers/sim-thread.worker.ts', import.meta.url);

let spawned: NodeWorker[] = [];
const spawn = (entry = TEST_WORKER) => () => {
  const w = spawnNodeWorker(entry);
  spawned.push(w);
  return w;
};

afterEach(async () => {
  for (const w of spawned) w.terminate();
  await Promise.all(spawned.map((w) => w.exited));
  spawned = [];
});

/** Resolves with the exit code, or 'running' if the thread is still alive after `ms`. */
const exitWithin = (w: NodeWorker, ms: number) =>
  Promise.race([w.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), ms))]);

describe('worker bridge with worker threads', () => {
  it('runs calls one at a time in order on one worker, with progress; error replies reject and keep the worker', async () => {
    const b = new WorkerBridge<TestCalls>(protocol(), spawn());
    const progress: number[] = [];
    const [a, s, c] = await Promise.all([b.call('echo', 1), b.call('steps', 4, { onProgress: (p) => progress.push(p) }), b.call('echo', 3)]);
    expect(progress).toEqual([1, 2, 3, 4]);
    expect(s.steps).toBe(4);
    expect([a.arg, c.arg]).toEqual([1, 3]);
    expect(new Set([a.threadId, s.threadId, c.threadId]).size).toBe(1);
    expect(spawned).toHaveLength(1);
    await expect(b.call('fail', 7)).rejects.toThrow('bad argument 7');
    expect((await b.call('foreign', 0)).threadId).toBe(a.threadId); // foreign messages are ignored
    expect(spawned).toHaveLength(1);
    b.dispose();
    expect(await exitWithin(spawned[0], 2000)).not.toBe('running');
  });

  it('a worker that throws: the call rejects naming the worker and the error; the next call gets a fresh thread', async () => {
    const b = new WorkerBridge<TestCalls>(protocol(), spawn());
    const first = await b.call('echo', 0);
    const crashed = b.call('throw', 0);
    const queued = b.call('echo', 1); // waits behind the crashing call
    await expect(crashed).rejects.toThrow(/^test worker failed: .*kaboom in the worker/);
    const next = await queued;
    expect(next.threadId).not.toBe(first.threadId);
    expect(spawned).toHaveLength(2);
    expect(await exitWithin(spawned[0], 2000)).not.toBe('running');
    b.dispose();
  });

  it('a worker that exits: the call rejects, the next one runs on a fresh thread', async () => {
    const b = new WorkerBridge<TestCalls>(protocol(), spawn());
    await expect(b.call('exit', 0)).rejects.toThrow(/test worker failed: the thread exited with code 3/);
    expect(b.alive).toBe(false);
    expect((await b.call('echo', 5)).arg).toBe(5);
    expect(spawned).toHaveLength(2);
    b.dispose();
  });

  it('cancel: aborting the running call terminates its thread at once; aborting a queued call only drops it', async () => {
    const b = new WorkerBridge<TestCalls>(protocol(), spawn());
    const before = await b.call('echo', 0);
    const ac = new AbortController();
    const hung = b.call('hang', 0, { signal: ac.signal });
    const after = b.call('echo', 2);
    setTimeout(() => ac.abort(), 20);
    const t0 = performance.now();
    await expect(hung).rejects.toMatchObject({ name: 'AbortError' });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(await exitWithin(spawned[0], 2000)).not.toBe('running'); // the thread is really gone
    expect((await after).threadId).not.toBe(before.threadId);

    const ac2 = new AbortController();
    const running = b.call('steps', 3);
    const dropped = b.call('echo', 9, { signal: ac2.signal });
    ac2.abort();
    await expect(dropped).rejects.toMatchObject({ name: 'AbortError' });
    expect((await running).steps).toBe(3);
    expect(spawned).toHaveLength(2); // the running call's thread was kept
    await expect(b.call('echo', 0, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    b.dispose();
  });

  it('idle shutdown: an unused worker ends after idleMs; the next call spawns a fresh one', async () => {
    const b = new WorkerBridge<TestCalls>(protocol(60), spawn());
    const a = await b.call('echo', 0);
    expect(b.alive).toBe(true);
    expect(await exitWithin(spawned[0], 3000)).not.toBe('running');
    expect(b.alive).toBe(false);
    expect((await b.call('echo', 1)).threadId).not.toBe(a.threadId);
    b.dispose();
  });

  it('a request that cannot be sent (DataCloneError) fails alone; dispose rejects what is pending', async () => {
    const b = new WorkerBridge<TestCalls>(protocol(), spawn());
    const a = await b.call('echo', 0);
    await expect(b.call('fail', { f: () => 1 })).rejects.toThrow(/test worker could not be sent the fail request/);
    expect((await b.call('echo', 1)).threadId).toBe(a.threadId);
    const pending = b.call('hang', 0);
    await new Promise((r) => setTimeout(r, 10));
    b.dispose();
    await expect(pending).rejects.toThrow('test client disposed');
    await expect(b.call('echo', 0)).rejects.toThrow('test client disposed');
  });

  it('onmessageerror (a message that cannot be deserialized) is a crash: the call rejects, the worker is replaced', async () => {
    // worker_threads cannot be made to fail deserialization on purpose; the DOM event is fired by hand here.
    const workers: (WorkerLike & { terminated: boolean })[] = [];
    const b = new WorkerBridge<TestCalls>(protocol(), () => {
      const w = { onmessage: null, onerror: null, onmessageerror: null, terminated: false, postMessage() {}, terminate() { w.terminated = true; } } as WorkerLike & { terminated: boolean };
      workers.push(w);
      return w;
    });
    const p = b.call('echo', 0);
    await Promise.resolve();
    workers[0].onmessageerror?.({ data: null });
    await expect(p).rejects.toThrow(/test worker failed: one of its messages could not be read/);
    expect(workers[0].terminated).toBe(true);
    const next = b.call('echo', 1);
    expect(workers).toHaveLength(2);
    b.dispose();
    await expect(next).rejects.toThrow('test client disposed');
  });
});

describe('worker side', () => {
  it('an unhandled rejection is rethrown as an error carrying its reason (the page then sees a crash)', () => {
    const e = new TypeError('x is undefined');
    expect(rejectionError(e)).toBe(e);
    expect(rejectionError('no adapter').message).toBe('unhandled rejection: no adapter');
    expect(rejectionError({ code: 3 }).message).toBe('unhandled rejection: {"code":3}');
  });
});

describe('simulator client over a worker thread', () => {
  it('loads and runs bit-identically; a cancel ends the thread and the next run reloads the model in a fresh one', async () => {
    const g0 = buildModel('cnn-small');
    const f = fuse(g0, initHostParams(g0, 2));
    const plan = prepare(f.graph, qconfigTemplate('default_calibration'));
    const r = mulberry32(4);
    const scales: Record<string, number> = {};
    for (const a of plan.acts) scales[a.node] = Math.fround(0.01 + r() * 0.05);
    const im = convert(plan, f.host, scales);
    const x = Float32Array.from({ length: 2 * 784 }, () => Math.fround(r()));
    const direct = Array.from(runIntModel(im, x, 2).output);
    const client = new SimClient(spawn(SIM_WORKER));
    try {
      expect((await client.load(encodeModelFile(im), { file: 'm.qsbin' })).name).toBe('cnn-small');
      expect(Array.from((await client.run([{ x, n: 2 }])).outputs[0])).toEqual(direct);
      const ac = new AbortController();
      const long = client.run(Array.from({ length: 200 }, () => ({ x, n: 2 })), { signal: ac.signal, onProgress: (p) => { if (p.batch === 1) ac.abort(); } });
      await expect(long).rejects.toMatchObject({ name: 'AbortError' });
      expect(await exitWithin(spawned[0], 2000)).not.toBe('running');
      expect(Array.from((await client.run([{ x, n: 2 }])).outputs[0])).toEqual(direct); // reloaded in thread 2
      expect(spawned).toHaveLength(2);
      await expect(client.load(new Uint8Array(8), { file: 'bad.qsbin' })).rejects.toBeInstanceOf(SimJobError);
    } finally {
      client.dispose();
    }
  });
});
