/** Moved to the leaf module src/qmath/qparams.ts (scalar quantization math that engine, quant and sim share). */
export * from '../qmath/qparams.ts';
