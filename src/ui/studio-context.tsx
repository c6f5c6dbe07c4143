/** React access to the studio store and the training controller (created once, in main.tsx). */
import { createContext, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { StudioState, StudioStore } from './store/studio-store.ts';
import type { TrainingController } from './features/train/training-controller.ts';

export interface Studio {
  store: StudioStore;
  controller: TrainingController;
}

const StudioContext = createContext<Studio | null>(null);

export function StudioProvider({ studio, children }: { studio: Studio; children: ReactNode }) {
  return <StudioContext.Provider value={studio}>{children}</StudioContext.Provider>;
}

function useStudioContext(): Studio {
  const s = useContext(StudioContext);
  if (!s) throw new Error('StudioProvider is missing');
  return s;
}

/** Select from the store; return primitives or stable references (zustand 5 compares with Object.is). */
export function useStudio<T>(selector: (s: StudioState) => T): T {
  return useStore(useStudioContext().store, selector);
}

/** The store itself, for controllers made on first use (read state through useStudio in components). */
export function useStudioStore(): StudioStore {
  return useStudioContext().store;
}

export function useController(): TrainingController {
  return useStudioContext().controller;
}
