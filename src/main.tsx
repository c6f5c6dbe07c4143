/** The studio's entry point: one store, one training worker client, the React tree. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App.tsx';
import { StudioProvider } from './ui/studio-context.tsx';
import { createStudioStore } from './ui/store/studio-store.ts';
import { createTrainingController } from './ui/features/train/training-controller.ts';
import { spawnTrainingWorker, TrainingClient } from './train/client.ts';
import type { BackendPreference } from './train/protocol.ts';
import './ui/styles.css';

// ?backend=cpu starts on the CPU reference (the badge and notice say so); the page can switch later.
const param = new URLSearchParams(location.search).get('backend');
const prefer: BackendPreference = param === 'cpu' ? 'cpu' : 'auto';

const store = createStudioStore();
store.getState().setBackendPreference(prefer);
const controller = createTrainingController(store, new TrainingClient(spawnTrainingWorker, { prefer }));
// For debugging in the console and for e2e diagnostics (read-only use).
(window as unknown as { __studio?: unknown }).__studio = { store };

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <StudioProvider studio={{ store, controller }}>
      <App />
    </StudioProvider>
  </StrictMode>,
);
