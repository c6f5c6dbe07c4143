/**
 * The studio page: a workflow to follow top to bottom — 1 Model and 2 Data, 3 Train (float),
 * 4 Quantize (calibration, QAT), 5 Graph, 6 Deploy, 7 Analyze, 8 Runs — under a header with the project bar and the
 * backend badge. Every panel has its own error boundary: one panel's exception cannot blank the studio.
 */
import type { ReactNode } from 'react';
import { BackendBadge, BackendNotice } from './features/backend/BackendBadge.tsx';
import { DataPanel } from './features/data/DataPanel.tsx';
import { DeployPanel } from './features/deploy/DeployPanel.tsx';
import { AnalysisPanel } from './features/analysis/AnalysisPanel.tsx';
import { GraphPanel } from './features/graph/GraphPanel.tsx';
import { ModelPanel } from './features/model/ModelPanel.tsx';
import { ProjectBar } from './features/project/ProjectBar.tsx';
import { QuantizePanel } from './features/quant/QuantizePanel.tsx';
import { EpochResults } from './features/train/EpochResults.tsx';
import { RunPanel } from './features/train/RunPanel.tsx';
import { SettingsPanel } from './features/train/SettingsPanel.tsx';
import { LossChart } from './charts/LossChart.tsx';
import { useStudio } from './studio-context.tsx';
import { ErrorBoundary } from './ErrorBoundary.tsx';
import { SafeStart } from './features/project/SafeStart.tsx';
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
        <ErrorBoundary name="The project bar"><ProjectBar /></ErrorBoundary>
        <BackendBadge />
      </header>
      <BackendNotice />
      <SafeStart />
      <nav className="steps-nav" aria-label="Workflow">
        <a href="#step-setup">1 Model · 2 Data</a><a href="#step-train">3 Train</a><a href="#step-quant">4 Quantize</a><a href="#step-graph">5 Graph</a><a href="#step-deploy">6 Deploy</a><a href="#step-analyze">7 Analyze</a><a href="#step-runs">8 Runs</a>
      </nav>
      <ScopeBar />
      <main className="flow">
        <Step n="1·2" title="Model and data" id="step-setup">
          <div className="layout">
            <ErrorBoundary name="The Model panel"><ModelPanel /></ErrorBoundary>
            <ErrorBoundary name="The Data panel"><DataPanel /></ErrorBoundary>
          </div>
        </Step>
        <Step n="3" title="Train (float)" id="step-train">
          <div className="layout">
            <aside className="sidebar" aria-label="Training settings"><ErrorBoundary name="The training settings"><SettingsPanel /></ErrorBoundary></aside>
            <div className="workspace" id="workspace" tabIndex={-1}>
              <ErrorBoundary name="The Run panel"><RunPanel /></ErrorBoundary>
              <ErrorBoundary name="The loss chart"><ChartPanel /></ErrorBoundary>
              <ErrorBoundary name="The epoch results"><EpochResults /></ErrorBoundary>
            </div>
          </div>
        </Step>
        <Step n="4" title="Quantize" id="step-quant"><ErrorBoundary name="The Quantize panel"><QuantizePanel /></ErrorBoundary></Step>
        <Step n="5" title="Graph" id="step-graph"><ErrorBoundary name="The Graph panel"><GraphPanel /></ErrorBoundary></Step>
        <Step n="6" title="Deploy" id="step-deploy"><ErrorBoundary name="The Deploy panel"><DeployPanel /></ErrorBoundary></Step>
        <Step n="7" title="Analyze" id="step-analyze"><ErrorBoundary name="The Analyze panel"><AnalysisPanel /></ErrorBoundary></Step>
        <Step n="8" title="Runs and comparison" id="step-runs"><ErrorBoundary name="The Runs panel"><RunsPanel /></ErrorBoundary></Step>
      </main>
    </div>
  );
}
