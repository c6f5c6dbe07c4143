/** The Model panel's controller: one per studio store, made on first use (it needs only the store). */
import type { StudioStore } from '../../store/studio-store.ts';
import { useStudioStore } from '../../studio-context.tsx';
import { createModelController, type ModelController } from './model-controller.ts';

const controllers = new WeakMap<StudioStore, ModelController>();

export function useModelController(): ModelController {
  const store = useStudioStore();
  let c = controllers.get(store);
  if (!c) {
    c = createModelController(store);
    controllers.set(store, c);
  }
  return c;
}
