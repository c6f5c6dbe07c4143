/**
 * Interleaved timing of our engine against the peer, and the result rows.
 *
 * Method (see bench/README.md): each side is warmed up (pipelines compile slowly on software
 * adapters), one synced iteration calibrates how many iterations fill a block of `blockMs`, then
 * `rounds` blocks of each side alternate (ours, peer, peer, ours, ours, peer, ...) so that load
 * from other processes on the shared machine hits both sides alike. Each block ends with a sync
 * (a read-back), and its throughput is work / wall time; the reported figure is the median block.
 */

export interface BenchOptions {
  quick: boolean;
  /** Target wall time of one timed block per side. */
  blockMs: number;
  /** Timed blocks per side (the median is reported). */
  rounds: number;
  /** Untimed iterations before the calibration iteration (which is a warm iteration too). */
  warmup: number;
  /** Upper bound on iterations per block (keeps tiny cases bounded). */
  maxIters: number;
}

export function benchOptions(quick: boolean): BenchOptions {
  return quick
    ? { quick, blockMs: 300, rounds: 1, warmup: 1, maxIters: 200 }
    : { quick, blockMs: 1200, rounds: 3, warmup: 1, maxIters: 2000 };
}

/** One side of a comparison: `run(k)` does k iterations and resolves once the device is idle. */
export interface Side {
  run(iterations: number): Promise<void>;
}

export interface SideStats {
  /** Work units per second, per block. */
  rates: number[];
  median: number;
  itersPerBlock: number;
  /** Wall time of the first (compiling) iteration, ms. */
  firstMs: number;
}

export interface PairResult { ours: SideStats; peer: SideStats }

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function timed(f: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

async function prepare(side: Side, o: BenchOptions): Promise<{ iters: number; firstMs: number }> {
  const firstMs = await timed(() => side.run(1));
  for (let i = 1; i < o.warmup; i++) await side.run(1);
  const one = await timed(() => side.run(1));
  const iters = Math.max(1, Math.min(o.maxIters, Math.round(o.blockMs / Math.max(one, 1e-3))));
  return { iters, firstMs };
}

/**
 * Times `ours` and `peer` interleaved; `work` is the amount of work in one iteration (images,
 * FLOPs), so the rates are work per second.
 */
export async function comparePair(ours: Side, peer: Side, work: number, o: BenchOptions): Promise<PairResult> {
  const po = await prepare(ours, o);
  const pp = await prepare(peer, o);
  const sides = [
    { side: ours, prep: po, rates: [] as number[] },
    { side: peer, prep: pp, rates: [] as number[] },
  ];
  for (let r = 0; r < o.rounds; r++) {
    // ABBAAB...: alternate which side goes first, so neither always runs right after the other.
    const order = r % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) {
      const s = sides[i];
      const ms = await timed(() => s.side.run(s.prep.iters));
      s.rates.push((work * s.prep.iters) / (ms / 1000));
    }
  }
  const stats = (s: (typeof sides)[number]): SideStats =>
    ({ rates: s.rates, median: median(s.rates), itersPerBlock: s.prep.iters, firstMs: s.prep.firstMs });
  return { ours: stats(sides[0]), peer: stats(sides[1]) };
}

/** Times one side alone (the QAT-vs-float row compares two of our own configurations). */
export async function timeSide(side: Side, work: number, o: BenchOptions): Promise<SideStats> {
  const p = await prepare(side, o);
  const rates: number[] = [];
  for (let r = 0; r < o.rounds; r++) {
    const ms = await timed(() => side.run(p.iters));
    rates.push((work * p.iters) / (ms / 1000));
  }
  return { rates, median: median(rates), itersPerBlock: p.iters, firstMs: p.firstMs };
}

// ---------------------------------------------------------------------------------------------

export interface Row {
  case: string;
  metric: string;
  ours: number;
  /** Who the peer is, e.g. "tfjs-webgpu 4.22.0" or "ours-float". */
  peer: string;
  peer_value: number;
  /** Oriented so that > 1 means ours is faster (ours / peer for throughput metrics). */
  ratio: number;
}

export interface RowDetail {
  case: string;
  ours: SideStats;
  peer: SideStats;
  note?: string;
}

export function row(caseName: string, metric: string, peerName: string, r: PairResult): Row {
  return { case: caseName, metric, ours: r.ours.median, peer: peerName, peer_value: r.peer.median, ratio: r.ours.median / r.peer.median };
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toFixed(3);
}

export function formatTable(rows: readonly Row[]): string {
  const head = ['case', 'metric', 'ours', 'peer', 'peer value', 'ratio'];
  const body = rows.map((r) => [r.case, r.metric, fmt(r.ours), r.peer, fmt(r.peer_value), `${r.ratio.toFixed(2)}x`]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const right = [false, false, true, false, true, true];
  const line = (cells: string[]) => cells.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
