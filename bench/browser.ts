/**
 * `npm run bench -- --browser [--quick] [--filter=TEXT] [--out=FILE]`: the training rows of the bench (our trainStep
 * against TF.js 4.22 webgpu, identical work, interleaved medians) in one Chromium page on the page's WebGPU adapter
 * (SwiftShader on a machine without a GPU). Bundles bench/browser/page.ts with esbuild (shaders as text, as the
 * studio's build does), serves it on localhost (a secure context, so navigator.gpu exists), drives Chromium with
 * playwright-core, and writes bench/results-browser.json in the Node bench's format (rows + metadata).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { CHROMIUM_PATH, CHROMIUM_WEBGPU_ARGS } from '../scripts/chromium-webgpu.ts';
import { formatTable } from './harness.ts';
import type { BrowserBenchRequest, BrowserBenchResult } from './browser/page.ts';

const MODELS = ['cnn-small', 'mobilenetv2-mini'];
const BATCH = 64;

/** The page's script: bench/browser/page.ts and everything it imports, for the browser, in one ES module. */
export async function bundlePage(): Promise<{ js: Uint8Array; inputs: string[] }> {
  const out = await build({
    entryPoints: [fileURLToPath(new URL('./browser/page.ts', import.meta.url))], bundle: true, format: 'esm', platform: 'browser',
    target: 'es2022', write: false, logLevel: 'error', loader: { '.wgsl': 'text', '.py': 'text' }, mainFields: ['browser', 'module', 'main'],
    define: { 'process.env.NODE_ENV': '"production"' }, metafile: true,
  });
  return { js: out.outputFiles[0].contents, inputs: Object.keys(out.metafile.inputs) };
}

export async function runBrowserBench(args: string[]): Promise<void> {
  const flag = (name: string) => args.includes(`--${name}`);
  const opt = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const quick = flag('quick');
  const filterText = opt('filter');
  const outPath = opt('out') ?? fileURLToPath(new URL('./results-browser.json', import.meta.url));
  const t0 = performance.now();

  const { js } = await bundlePage();
  const html = '<!doctype html><meta charset="utf-8"><title>Quant Studio bench</title><script type="module" src="/bench.js"></script>';
  const server = createServer((req, res) => {
    if (req.url === '/bench.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    else if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_WEBGPU_ARGS });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.exposeFunction('benchLog', (line: string) => console.log(line));
    await page.goto(`http://localhost:${port}/`);
    await page.waitForFunction(() => typeof window.runBench === 'function', undefined, { timeout: 60_000 });
    const req: BrowserBenchRequest = { quick, batch: BATCH, models: MODELS.filter((m) => !filterText || m.includes(filterText)) };
    const r: BrowserBenchResult = await page.evaluate((q) => window.runBench(q), req);
    if (errors.length) throw new Error(`errors in the bench page: ${errors.join('; ')}`);
    let commit = '';
    try { commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim(); } catch { /* not a checkout */ }
    const result = {
      date: new Date().toISOString(),
      where: 'browser',
      browser: `${browser.version()} (${CHROMIUM_PATH})`,
      user_agent: r.user_agent,
      adapter: r.adapter,
      is_fallback_adapter: r.is_fallback_adapter,
      peer_adapter: r.peer_adapter,
      peer: r.peer,
      node: process.version,
      platform: `${os.platform()} ${os.release()} ${os.arch()}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`,
      commit,
      options: { quick },
      batch: BATCH,
      seconds: (performance.now() - t0) / 1000,
      load_average_end: os.loadavg(),
      notes: [],
      rows: r.rows,
      details: r.details,
    };
    writeFileSync(outPath, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\nbrowser: Chromium ${browser.version()}; adapter: ${r.adapter} (peer ${r.peer} on the same GPUDevice)`);
    console.log(`${result.seconds.toFixed(0)} s, ${quick ? 'quick' : 'full'}; ratio > 1: ours faster\n`);
    console.log(formatTable(r.rows));
    console.log(`\nwrote ${outPath}`);
  } finally {
    await browser.close();
    server.close();
  }
}
