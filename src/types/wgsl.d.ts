// WGSL sources are imported as strings: by the Vite plugin in vite.config.ts (browser, vitest)
// and by scripts/wgsl-hooks.mjs (plain Node: the CLI and the benchmarks).
declare module '*.wgsl' {
  const source: string;
  export default source;
}
