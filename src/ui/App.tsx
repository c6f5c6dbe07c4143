/**
 * The studio page: a workflow to follow top to bottom — 1 Model and 2 Data, 3 Train (float),
 * 4 Quantize (calibration, QAT), 5 Graph, 6 Deploy, 7 Runs — under a header with the project bar and the backend badge.
 */
import type { ReactNode } from 'react';
import { BackendBadge, BackendNotice } from './features/backend/BackendBadge.tsx';
import { DataPanel } from './features/data/DataPanel.tsx';
import { DeployPanel } from './features/deploy/DeployPanel.tsx';
import { GraphPanel } from './features/graph/GraphPanel.tsx';
import { ModelPanel } from './features/model/ModelPanel.tsx';
import { ProjectBar } from './features/project/ProjectBar.tsx';
import { QuantizePanel } from './features/quant/QuantizePanel.tsx';
import { EpochResults } from './features/train/EpochResults.tsx';
import { RunPanel } from './features/train/RunPanel.tsx';
import { SettingsPanel } from './features/train/SettingsPanel.tsx';
import { LossChart } from './charts/LossChart.tsx';
import { useStudio } from './studio-context.tsx';
import { ScopeBar } from './scope/ScopeBar.tsx';
import { RunsPanel } from './features/runs/RunsPanel.tsx';

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

function Step({ n, title, id, children }: { n: string; title: string; id: string; children: ReactNode }) {
  return (
    <section className="step" id={id} aria-labelledby={`${id}-title`}>
      <h2 className="step-title" id={`${id}-title`}><span className="step-n" aria-hidden="true">{n}</span>{title}</h2>
      {children}
    </section>
  );
}

export function App() {
  return (
    <div className="app">
      <a className="skip-link" href="#step-train">Skip to training</a>
      <header className="app-header">
        <div className="brand">
          <h1>Quant Studio</h1>
          <span className="subtitle">Train, calibrate and quantize small CNNs in the browser</span>
        </div>
        <ProjectBar />
        <BackendBadge />
      </header>
      <BackendNotice />
      <nav className="steps-nav" aria-label="Workflow">
        <a href="#step-setup">1 Model · 2 Data</a><a href="#step-train">3 Train</a><a href="#step-quant">4 Quantize</a><a href="#step-graph">5 Graph</a><a href="#step-deploy">6 Deploy</a><a href="#step-runs">7 Runs</a>
      </nav>
      <ScopeBar />
      <main className="flow">
        <Step n="1·2" title="Model and data" id="step-setup">
          <div className="layout">
            <ModelPanel />
            <DataPanel />
          </div>
        </Step>
        <Step n="3" title="Train (float)" id="step-train">
          <div className="layout">
            <aside className="sidebar" aria-label="Training settings"><SettingsPanel /></aside>
            <div className="workspace" id="workspace" tabIndex={-1}>
              <RunPanel />
              <ChartPanel />
              <EpochResults />
            </div>
          </div>
        </Step>
        <Step n="4" title="Quantize" id="step-quant"><QuantizePanel /></Step>
        <Step n="5" title="Graph" id="step-graph"><GraphPanel /></Step>
        <Step n="6" title="Deploy" id="step-deploy"><DeployPanel /></Step>
        <Step n="7" title="Runs and comparison" id="step-runs"><RunsPanel /></Step>
      </main>
    </div>
  );
}
