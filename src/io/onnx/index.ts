/** ONNX in and out: import into the graph IR (import/) and QDQ export of a quantized model (export-qdq.ts). */
export {
  importOnnx, normalizationFrom, OnnxImportError, SUPPORTED_OPS, MIN_OPSET, MAX_OPSET,
  type InputPreprocessing, type OnnxImportOptions, type OnnxImportResult,
} from './import/index.ts';
export {
  exportQdqOnnx, buildQdqOnnx, snapshotQuantizedModel, weightScalesOf, quantizeWeightsPerChannel, quantizeBiasInt32,
  QdqExportError, type QuantSnapshot,
} from './export-qdq.ts';
