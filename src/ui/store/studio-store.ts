/** The studio's store: the slices composed. Plain zustand (vanilla): React reads it through use-studio.ts. */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { createBackendSlice, type BackendSlice } from './backend-slice.ts';
import { createModelSlice, type ModelSlice } from './model-slice.ts';
import { createTrainingSlice, type TrainingSlice } from './training-slice.ts';
import { createDataSlice, type DataSlice } from './data-slice.ts';
import { createQuantSlice, type QuantSlice } from './quant-slice.ts';
import { createGraphSlice, type GraphSlice } from './graph-slice.ts';
import { createProjectSlice, type ProjectSlice } from './project-slice.ts';
import { createDeploySlice, type DeploySlice } from './deploy-slice.ts';
import { createAnalysisSlice, type AnalysisSlice } from './analysis-slice.ts';
import { createScopeSlice, type ScopeSlice } from './scope-slice.ts';
import { createRunsSlice, type RunsSlice } from './runs-slice.ts';

export type StudioState = ModelSlice & TrainingSlice & BackendSlice & DataSlice & QuantSlice & GraphSlice & ProjectSlice & DeploySlice & AnalysisSlice & ScopeSlice & RunsSlice;
export type StudioStore = StoreApi<StudioState>;

export function createStudioStore(): StudioStore {
  return createStore<StudioState>()((set, get) => ({
    ...createModelSlice(set, get),
    ...createTrainingSlice(set, get),
    ...createBackendSlice(set, get),
    ...createDataSlice(set, get),
    ...createQuantSlice(set, get),
    ...createGraphSlice(set, get),
    ...createProjectSlice(set, get),
    ...createDeploySlice(set, get),
    ...createAnalysisSlice(set, get),
    ...createScopeSlice(set, get),
    ...createRunsSlice(set, get),
  }));
}
