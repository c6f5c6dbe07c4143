/**
 * The training worker's model message (part of protocol.ts's TrainRequest union).
 *
 * Page -> worker:
 *   set-model {model}   the model the next float run (`start`) trains or evaluates: a zoo model by name
 *                       (built for the loaded data, initialised from the seed), or an imported ONNX model
 *                       (its graph and float weights, as imported; `start` with config.model = its name uses
 *                       them, and 0 epochs just evaluates them). Not while a job runs (answered by `error`).
 */
import type { Graph } from '../graph/ir.ts';
import type { HostParams } from '../nn/params.ts';

/** An imported model's name in configs and checkpoints: `onnx:<file name>`. */
export const IMPORTED_PREFIX = 'onnx:';

export const isImportedName = (name: string): boolean => name.startsWith(IMPORTED_PREFIX);

export type ModelChoice =
  | { kind: 'zoo'; name: string }
  | { kind: 'onnx'; name: string; graph: Graph; host: HostParams };

export type ModelRequest = { type: 'set-model'; model: ModelChoice };

export const MODEL_REQUEST_TYPES = ['set-model'] as const satisfies readonly ModelRequest['type'][];
