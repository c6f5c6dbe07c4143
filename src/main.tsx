/**
 * The studio's entry point: one store, the training worker's client, the controllers (training,
 * data, quantization, deployment, project persistence), the React tree; then the saved project is restored (or
 * the built-in data loaded).
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App.tsx';
import { StudioProvider } from './ui/studio-context.tsx';
import { ControllersProvider } from './ui/controllers-context.tsx';
import { createStudioStore } from './ui/store/studio-store.ts';
import { createTrainingController } from './ui/features/train/training-controller.ts';
import { createDataController, spawnDecodeWorker } from './ui/features/data/data-controller.ts';
import { createQuantController } from './ui/features/quant/quant-controller.ts';
import { createProjectController } from './ui/features/project/project-controller.ts';
import { createDeployController } from './ui/features/deploy/deploy-controller.ts';
import { DeployControllerProvider } from './ui/features/deploy/deploy-context.tsx';
import { createAnalysisController } from './ui/features/analysis/analysis-controller.ts';
import { AnalysisControllerProvider } from './ui/features/analysis/analysis-context.tsx';
import { spawnSimWorker } from './sim/client.ts';
import { idbDelete, idbGet, idbPut } from './ui/persist/idb.ts';
import { ErrorBoundary } from './ui/ErrorBoundary.tsx';
import { createScopeController } from './ui/scope/scope-controller.ts';
import { spawnTrainingWorker, TrainingClient } from './train/client.ts';
import type { BackendPreference } from './train/protocol.ts';
import './ui/styles.css';
import './ui/workflow.css';

// ?backend=cpu starts on the CPU reference (the badge and notice say so); the page can switch later.
const param = new URLSearchParams(location.search).get('backend');
const prefer: BackendPreference = param === 'cpu' ? 'cpu' : 'auto';

const store = createStudioStore();
store.getState().setBackendPreference(prefer);
const client = new TrainingClient(spawnTrainingWorker, { prefer });
const data = createDataController(store, client, spawnDecodeWorker);
const controller = createTrainingController(store, client, () => data.sync());
const quant = createQuantController(store, client, () => data.sync());
const deploy = createDeployController(store, client, spawnSimWorker, () => data.sync());
const analysis = createAnalysisController(store, client, () => data.sync());
const project = createProjectController(store, client, data, { get: idbGet, put: idbPut });
// Results follow the model and data on screen (switching opens that pair's own results, or starts clean).
createScopeController(store, client);
// For debugging in the console and for e2e diagnostics (read-only use).
(window as unknown as { __studio?: unknown }).__studio = { store };

/** The last resort, outside every panel's own boundary: never a blank page. */
function StudioFailed({ error }: { error: Error }) {
  const discard = () => void idbDelete('project').finally(() => location.reload());
  return (
    <div className="app" role="alert" data-testid="studio-failed">
      <h1>Quant Studio</h1>
      <p className="error">The studio could not be shown: {error.message}</p>
      <p>If this comes from the project saved in this browser, discard it and start over.</p>
      <button type="button" onClick={discard}>Discard the saved project and reload</button>
    </div>
  );
}

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <ErrorBoundary name="The studio" fallback={(error) => <StudioFailed error={error} />}>
      <StudioProvider studio={{ store, controller }}>
        <ControllersProvider value={{ data, quant, project }}>
          <DeployControllerProvider value={deploy}>
            <AnalysisControllerProvider value={analysis}>
              <App />
            </AnalysisControllerProvider>
          </DeployControllerProvider>
        </ControllersProvider>
      </StudioProvider>
    </ErrorBoundary>
  </StrictMode>,
);
project.start().catch((e: unknown) => {
  // start() reports what it cannot restore itself; anything else still must not leave the page restoring.
  store.getState().setUnrestored([{ part: 'the saved project', reason: `restoring it failed (${e instanceof Error ? e.message : String(e)})` }]);
  if (!store.getState().data.summary) data.loadBuiltin();
  store.getState().projectReady();
});
