/** ONNX import: the modules live under ./import/ (see ./import/index.ts); this path stays for existing importers. */
export * from './import/index.ts';
