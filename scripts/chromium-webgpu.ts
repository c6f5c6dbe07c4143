/**
 * Debian's Chromium with WebGPU on this machine's software adapter (SwiftShader; shared/design/WEBGPU-WITHOUT-A-GPU.md):
 * the one launch recipe of the e2e suite (playwright.config.ts) and the browser bench (bench/browser.ts).
 */
export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_WEBGPU_ARGS = ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-quic', '--enable-unsafe-webgpu'];
