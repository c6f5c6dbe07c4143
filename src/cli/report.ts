/** DIR/report.json: each stage merges its section ({"float": {...}}, {"calib": {...}}, ...). */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function mergeReport(dir: string, section: string, value: unknown): Promise<Record<string, unknown>> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'report.json');
  let report: Record<string, unknown> = {};
  try {
    report = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${file}: cannot read the existing report: ${(e as Error).message}`);
  }
  report[section] = value;
  await writeFile(file, JSON.stringify(report, null, 2) + '\n');
  return report;
}
