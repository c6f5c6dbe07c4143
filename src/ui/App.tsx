/** The studio page: header with the backend badge, model and settings on the left, the run on the right. */
import { BackendBadge, BackendNotice } from './features/backend/BackendBadge.tsx';
import { ModelPanel } from './features/model/ModelPanel.tsx';
import { EpochResults } from './features/train/EpochResults.tsx';
import { RunPanel } from './features/train/RunPanel.tsx';
import { SettingsPanel } from './features/train/SettingsPanel.tsx';
import { LossChart } from './charts/LossChart.tsx';
import { useStudio } from './studio-context.tsx';

function ChartPanel() {
  const losses = useStudio((s) => s.run.losses);
  const epochs = useStudio((s) => s.run.epochs);
  const totalSteps = useStudio((s) => s.run.progress?.totalSteps ?? s.run.totalSteps);
  return (
    <section className="panel" aria-labelledby="chart-h">
      <h2 id="chart-h">Loss and accuracy</h2>
      <LossChart losses={losses} epochs={epochs} totalSteps={totalSteps} />
    </section>
  );
}

export function App() {
  return (
    <div className="app">
      <a className="skip-link" href="#workspace">Skip to the run</a>
      <header className="app-header">
        <div className="brand">
          <h1>Quant Studio</h1>
          <span className="subtitle">Float training on Fashion-MNIST</span>
        </div>
        <BackendBadge />
      </header>
      <BackendNotice />
      <main className="layout">
        <aside className="sidebar" aria-label="Model and settings">
          <ModelPanel />
          <SettingsPanel />
        </aside>
        <div className="workspace" id="workspace" tabIndex={-1}>
          <RunPanel />
          <ChartPanel />
          <EpochResults />
        </div>
      </main>
    </div>
  );
}
