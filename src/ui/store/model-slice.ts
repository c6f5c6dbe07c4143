/** Which zoo model the studio works on. */
import { MODEL_NAMES, type ModelName } from '../../models/zoo.ts';
import type { SliceCreator } from './types.ts';

export interface ModelSlice {
  modelName: ModelName;
  setModel(name: string): void;
}

export const DEFAULT_MODEL: ModelName = 'cnn-small';

export function isModelName(name: string): name is ModelName {
  return (MODEL_NAMES as readonly string[]).includes(name);
}

export const createModelSlice: SliceCreator<ModelSlice> = (set) => ({
  modelName: DEFAULT_MODEL,
  setModel(name) {
    if (!isModelName(name)) throw new Error(`unknown model "${name}" (known: ${MODEL_NAMES.join(', ')})`);
    set({ modelName: name });
  },
});
