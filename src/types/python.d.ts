// Python templates (src/io/torch/templates/*.py) are imported as strings, like the WGSL sources (see wgsl.d.ts).
declare module '*.py' {
  const source: string;
  export default source;
}
