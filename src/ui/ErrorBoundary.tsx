/**
 * A React error boundary: an exception while rendering one panel (or in its effects) replaces that
 * panel with a message and a retry button instead of unmounting the whole studio.
 */
import { Component, type ErrorInfo, type ReactNode } from 'react';

interface Props { name: string; children: ReactNode; fallback?: (error: Error, retry: () => void) => ReactNode }

export class ErrorBoundary extends Component<Props, { error: Error | null }> {
  override state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: unknown) {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo) {
    console.error(`${this.props.name} failed:`, error, info.componentStack);
  }

  private retry = () => this.setState({ error: null });

  override render() {
    const { error } = this.state;
    if (!error) return this.props.children;
    if (this.props.fallback) return this.props.fallback(error, this.retry);
    return (
      <section className="panel error" role="alert" data-testid="panel-failed" data-panel={this.props.name}>
        <strong>{this.props.name} could not be shown:</strong> {error.message}
        <div><button type="button" onClick={this.retry}>Try again</button></div>
      </section>
    );
  }
}
