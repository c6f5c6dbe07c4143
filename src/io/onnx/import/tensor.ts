/** TensorProto → a constant: float32 (raw_data or float_data), int64 / int32 / small ints, double; external data refused. */
import { DATA_TYPE_NAMES, DataType, int64, type TensorProto } from '../proto.ts';
import { MAX_ELEMENTS, prod, type ConstVal } from './values.ts';

export function decodeTensor(t: TensorProto, what: string, fail: (reason: string) => never): ConstVal {
  if ((t.dataLocation ?? 0) === 1 || (t.externalData && t.externalData.length)) {
    fail(`${what} keeps its data in an external file; external data is not supported: re-save the model with all tensors inside ` +
      `the .onnx (onnx.save_model(model, path, save_as_external_data=False))`);
  }
  const dims = (t.dims ?? []).map((d) => int64(d));
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) fail(`${what} has invalid dimensions [${dims}]`);
  const count = prod(dims);
  if (!(count <= MAX_ELEMENTS)) fail(`${what} has too many elements (${count})`);
  const dt = t.dataType ?? 0;
  const raw = t.rawData && t.rawData.length ? t.rawData : null;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const checkRaw = (bytes: number) => {
    if (raw!.length !== count * bytes) fail(`${what}: raw_data has ${raw!.length} bytes, [${dims}] of ${DATA_TYPE_NAMES[dt]} needs ${count * bytes}`);
  };
  const checkLen = (n: number, field: string) => {
    if (n !== count) fail(`${what}: ${field} has ${n} values, shape [${dims}] needs ${count}`);
  };
  switch (dt) {
    case DataType.FLOAT: {
      if (raw) {
        checkRaw(4);
        const out = new Float32Array(count);
        for (let i = 0; i < count; i++) out[i] = view!.getFloat32(4 * i, true);
        return { kind: 'const', dims, data: out, dataType: dt };
      }
      checkLen(t.floatData?.length ?? 0, 'float_data');
      return { kind: 'const', dims, data: Float32Array.from(t.floatData ?? []), dataType: dt };
    }
    case DataType.INT64: {
      if (raw) {
        checkRaw(8);
        const out: number[] = [];
        for (let i = 0; i < count; i++) out.push(Number(view!.getBigInt64(8 * i, true)));
        return { kind: 'const', dims, data: out, dataType: dt };
      }
      checkLen(t.int64Data?.length ?? 0, 'int64_data');
      return { kind: 'const', dims, data: (t.int64Data ?? []).map((x) => int64(x)), dataType: dt };
    }
    case DataType.INT32: {
      if (raw) {
        checkRaw(4);
        const out: number[] = [];
        for (let i = 0; i < count; i++) out.push(view!.getInt32(4 * i, true));
        return { kind: 'const', dims, data: out, dataType: dt };
      }
      checkLen(t.int32Data?.length ?? 0, 'int32_data');
      return { kind: 'const', dims, data: [...(t.int32Data ?? [])], dataType: dt };
    }
    case DataType.BOOL: case DataType.UINT8: case DataType.INT8: {
      if (raw) {
        checkRaw(1);
        return { kind: 'const', dims, data: Array.from(dt === DataType.INT8 ? new Int8Array(raw.buffer, raw.byteOffset, count) : raw), dataType: dt };
      }
      checkLen(t.int32Data?.length ?? 0, 'int32_data');
      return { kind: 'const', dims, data: [...(t.int32Data ?? [])], dataType: dt };
    }
    case DataType.DOUBLE: {
      // Accepted for small constants (e.g. Clip bounds); converted to float32.
      if (raw) {
        checkRaw(8);
        const out = new Float32Array(count);
        for (let i = 0; i < count; i++) out[i] = view!.getFloat64(8 * i, true);
        return { kind: 'const', dims, data: out, dataType: DataType.FLOAT };
      }
      checkLen(t.doubleData?.length ?? 0, 'double_data');
      return { kind: 'const', dims, data: Float32Array.from(t.doubleData ?? []), dataType: DataType.FLOAT };
    }
    default:
      fail(`${what} has data type ${DATA_TYPE_NAMES[dt] ?? dt}; only float32 weights (and int64/int32 shapes) are supported`);
  }
}

