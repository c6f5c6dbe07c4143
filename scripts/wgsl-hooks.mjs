// Registers a Node module hook so that `import src from '.../x.wgsl'` yields the file's text,
// exactly as the Vite plugin does in the browser build.
import { register } from 'node:module';
register('./wgsl-loader.mjs', import.meta.url);
