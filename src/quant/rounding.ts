/** Moved to the leaf module src/qmath/rounding.ts (scalar quantization math that engine, quant and sim share). */
export * from '../qmath/rounding.ts';
