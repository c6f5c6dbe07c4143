/**
 * Generated hostile ONNX models for the fuzzing suite and the e2e: crafted from the tiny valid model
 * (tests/helpers/onnx.ts), each with the reason its import error must give.
 */
import { DataType } from '../../src/io/onnx/proto.ts';
import { floatInit, tinyModel, tinyValid } from './onnx.ts';

export interface HostileOnnx { id: string; bytes: Uint8Array; message: RegExp }

export function onnxCases(): HostileOnnx[] {
  const v = tinyValid();
  const inits = v.inits!;
  return [
    { id: 'two initializers with one name', bytes: tinyModel({ ...v, inits: [...inits, floatInit('w', [4, 2, 3, 3], 0.3)] }), message: /two initializers are named "w"; initializer names must be unique/ },
    { id: 'ir_version 99', bytes: tinyModel({ ...v, irVersion: 99 }), message: /ir_version 99 is outside the versions this importer knows \(3 to 11\)/ },
    { id: 'ir_version 2', bytes: tinyModel({ ...v, irVersion: 2 }), message: /ir_version 2 is outside the versions this importer knows/ },
    { id: 'no ir_version', bytes: tinyModel({ ...v, irVersion: 0 }), message: /the model has no ir_version/ },
    { id: 'raw_data shorter than the dims say', bytes: tinyModel({ ...v, inits: [{ ...inits[0], rawData: new Uint8Array(10) }, ...inits.slice(1)] }),
      message: /initializer "w": raw_data has 10 bytes, \[4,2,3,3\] of FLOAT needs 288/ },
    { id: 'dims claiming 2^40 elements', bytes: tinyModel({ ...v, inits: [{ name: 'w', dims: [1 << 20, 1 << 20], dataType: DataType.FLOAT, rawData: new Uint8Array(16) }, ...inits.slice(1)] }),
      message: /initializer "w" has too many elements \(1099511627776\)/ },
    { id: 'negative dims', bytes: tinyModel({ ...v, inits: [{ ...inits[0], dims: [4, -2, 3, 3] }, ...inits.slice(1)] }), message: /initializer "w" has invalid dimensions/ },
    { id: 'float_data count differs from dims', bytes: tinyModel({ ...v, inits: [{ name: 'w', dims: [4, 2, 3, 3], dataType: DataType.FLOAT, floatData: [1, 2, 3] }, ...inits.slice(1)] }),
      message: /float_data has 3 values, shape \[4,2,3,3\] needs 72/ },
    { id: 'not protobuf at all', bytes: new TextEncoder().encode('{"model": "not onnx"}'), message: /not a valid ONNX model|has no graph/ },
  ];
}
