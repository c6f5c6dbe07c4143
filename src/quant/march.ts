/** Moved to the leaf module src/qmath/march.ts (scalar quantization math that engine, quant and sim share). */
export * from '../qmath/march.ts';
