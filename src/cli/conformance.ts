/**
 * `npm run conformance -- DIR [--backend cpu|webgpu|both] [--kinds k1,k2]`
 *
 * Runs every case file of DIR; prints one line per failure and closes with `N passed, M failed` alone on a line.
 * Exit code: 0 all passed, 1 any failure, 2 bad directory or bad arguments.
 */
import { BadCaseDirectoryError, formatFailure, runConformance } from '../conformance/run.ts';
import type { ConformanceBackend } from '../conformance/types.ts';

const USAGE = 'usage: npm run conformance -- DIR [--backend cpu|webgpu|both] [--kinds k1,k2]';

function parseArgs(argv: string[]): { dir: string; backends: ConformanceBackend[]; kinds?: string[] } {
  let dir: string | undefined;
  let backend = 'cpu';
  let kinds: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const eq = a.indexOf('=');
      if (eq >= 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--backend' || a.startsWith('--backend=')) backend = value();
    else if (a === '--kinds' || a.startsWith('--kinds=')) kinds = value().split(',').map((k) => k.trim()).filter(Boolean);
    else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else if (dir === undefined) dir = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  if (dir === undefined) throw new Error('missing DIR');
  const backends: ConformanceBackend[] =
    backend === 'both' ? ['cpu', 'webgpu'] : backend === 'cpu' || backend === 'webgpu' ? [backend] : [];
  if (backends.length === 0) throw new Error(`bad --backend ${backend} (cpu, webgpu or both)`);
  return { dir, backends, kinds };
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  try {
    const summary = await runConformance(args.dir, { backends: args.backends, kinds: args.kinds });
    const showBackend = args.backends.length > 1;
    for (const o of summary.outcomes) for (const line of formatFailure(o, showBackend)) console.log(line);
    console.log(`${summary.passed} passed, ${summary.failed} failed`);
    return summary.failed > 0 ? 1 : 0;
  } catch (err) {
    if (err instanceof BadCaseDirectoryError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
}

process.exitCode = await main();
