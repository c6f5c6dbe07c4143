/**
 * Which model and data the results on the page belong to (`scope`), the results of the other model / data pairs
 * seen in this project (`shelf`, keyed by scopeKey: they come back when that pair is on screen again), and what
 * the page says after a switch (`scopeNotice`). The switch itself is scope/switch.ts (it touches every slice).
 */
import type { Scope } from '../scope/identity.ts';
import type { ScopedResults } from '../scope/switch.ts';
import type { SliceCreator } from './types.ts';

export interface ScopeNotice {
  kind: 'reopened' | 'clean';
  /** What changed: the model, the data, or both. */
  changed: 'model' | 'data' | 'both';
  text: string;
}

export interface ScopeSlice {
  scope: Scope | null;
  shelf: Record<string, ScopedResults>;
  scopeNotice: ScopeNotice | null;
  dismissScopeNotice(): void;
}

export const createScopeSlice: SliceCreator<ScopeSlice> = (set) => ({
  scope: null,
  shelf: {},
  scopeNotice: null,
  dismissScopeNotice() {
    set({ scopeNotice: null });
  },
});
