/**
 * e2e against the production build (`vite build` runs first in `npm run test:e2e`), served by
 * `vite preview`, in Debian's Chromium with WebGPU on SwiftShader (see
 * shared/design/WEBGPU-WITHOUT-A-GPU.md). Two workers: one spec at a time left the second core of a 2-core
 * machine partly idle (SwiftShader, the page's JS and the workers take turns); tests within a file stay in order.
 */
import { defineConfig } from '@playwright/test';
import { CHROMIUM_PATH, CHROMIUM_WEBGPU_ARGS } from './scripts/chromium-webgpu.ts';

// E2E_PORT: another free port when several checkouts run their suites on one machine.
const PORT = Number(process.env.E2E_PORT ?? 4173);

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  fullyParallel: false,
  workers: 2,
  retries: 0,
  timeout: 240_000,
  expect: { timeout: 120_000 },
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: `http://localhost:${PORT}`,
    viewport: { width: 1280, height: 800 },
    actionTimeout: 30_000,
    navigationTimeout: 60_000,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_WEBGPU_ARGS,
    },
  },
  webServer: {
    command: `npx vite preview --port ${PORT} --strictPort`,
    url: `http://localhost:${PORT}`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
