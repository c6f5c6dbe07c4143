/**
 * Stage `pipeline`: float -> calib -> qat -> int_infer -> compile in one go, with the same options as the
 * quantization stages (parseQuant) plus --force. float, calib and qat are skipped when their checkpoint
 * (DIR/float-checkpoint, DIR/calib-checkpoint, DIR/qat-checkpoint) exists, unless --force; int_infer and compile
 * always run (they are cheap and depend on the checkpoints before them). Every stage gets the same options (the
 * float stage without the quantization ones); each stage's defaults apply (calib: default_calibration, qat:
 * default_qat). Ends with a summary table read from DIR/report.json.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runFloat } from './float.ts';
import { runCalib } from './calib.ts';
import { runQat } from './qat.ts';
import { runIntInfer } from './int-infer.ts';
import { runCompile } from './compile.ts';
import { parseQuant, QUANT_OPTIONS } from './quant-common.ts';

interface Step {
  name: string;
  checkpoint: string | null;
  run: (argv: string[]) => Promise<void>;
  quantOptions: boolean;
}

const STEPS: Step[] = [
  { name: 'float', checkpoint: 'float-checkpoint', run: runFloat, quantOptions: false },
  { name: 'calib', checkpoint: 'calib-checkpoint', run: runCalib, quantOptions: true },
  { name: 'qat', checkpoint: 'qat-checkpoint', run: runQat, quantOptions: true },
  { name: 'int_infer', checkpoint: null, run: runIntInfer, quantOptions: true },
  { name: 'compile', checkpoint: null, run: runCompile, quantOptions: true },
];

/** argv without `--force` and, for the float stage, without the quantization options. */
export function stageArgv(argv: string[], quantOptions: boolean): string[] {
  const drop = new Set(quantOptions ? [] : Object.keys(QUANT_OPTIONS));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--([^=]+)(=.*)?$/.exec(a);
    if (m && m[1] === 'force') continue;
    if (m && drop.has(m[1])) {
      if (m[2] === undefined) i++; // skip the value too
      continue;
    }
    out.push(a);
  }
  return out;
}

export async function runPipeline(argv: string[]): Promise<void> {
  const force = argv.some((a) => a === '--force' || a === '--force=true');
  const rest = stageArgv(argv, true);
  const o = parseQuant(rest, 'default_qat'); // validates the options once, up front
  const rows: string[][] = [];
  for (const s of STEPS) {
    const ck = s.checkpoint ? join(o.modelPath, s.checkpoint) : null;
    if (ck && existsSync(ck) && !force) {
      console.log(`== ${s.name}: skipped (${ck} exists; --force to redo)`);
      rows.push([s.name, 'skipped', '-']);
      continue;
    }
    console.log(`== ${s.name}`);
    const t = performance.now();
    await s.run(stageArgv(argv, s.quantOptions));
    rows.push([s.name, 'ran', ((performance.now() - t) / 1000).toFixed(1)]);
  }
  let report: Record<string, Record<string, unknown>> = {};
  try {
    report = JSON.parse(await readFile(join(o.modelPath, 'report.json'), 'utf8'));
  } catch { /* no report */ }
  const num = (v: unknown, d = 2) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '-');
  const sec: Record<string, string> = { float: 'float', calib: 'calib', qat: 'qat', int_infer: 'int', compile: 'compile' };
  const table = rows.map(([name, status, secs]) => {
    const r = report[sec[name]] ?? {};
    const extra = name === 'int_infer' ? `agreement ${num(r.agreement_top1)} %`
      : name === 'compile' ? compileSummary(r, num) : '';
    return [name, status, secs, num(r.acc1), num(r.acc5), extra];
  });
  const head = ['stage', 'status', 'seconds', 'Acc@1', 'Acc@5', ''];
  const w = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i < 2 || i === 5 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ').trimEnd();
  console.log(`\nPipeline summary (${o.modelPath}):\n${[line(head), ...table.map(line)].join('\n')}`);
}

/** The estimate as a range with the per-frame costs (docs/perf-model.md §5), the roofline alone beside it. */
function compileSummary(r: Record<string, unknown>, num: (v: unknown, d?: number) => string): string {
  const lat = r.latency_ms_range as number[] | undefined, fps = r.fps_range as number[] | undefined;
  const range = lat && fps ? `${num(lat[0], 3)}–${num(lat[1], 3)} ms, ${num(fps[0], 0)}–${num(fps[1], 0)} FPS (assumed per-frame costs); ` : '';
  return `${String(r.march ?? '-')}: ${range}roofline ${num(r.latency_ms, 4)} ms`;
}
