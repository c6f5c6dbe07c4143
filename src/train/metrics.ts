/** Moved to src/nn/metrics.ts (used by training and by the deployment check). */
export * from '../nn/metrics.ts';
