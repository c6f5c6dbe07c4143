/** Moved to the leaf module src/qmath/fake-quantize.ts. */
export * from '../qmath/fake-quantize.ts';
