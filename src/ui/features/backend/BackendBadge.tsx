/** Which backend and adapter the training worker runs on; the reason when it fell back to the CPU. */
import { useStudio } from '../../studio-context.tsx';

export function BackendBadge() {
  const b = useStudio((s) => s.backend);
  if (b.status === 'pending') {
    return <span className="badge badge-pending" data-testid="backend-badge" data-backend="pending" role="status">Detecting backend…</span>;
  }
  const gpu = b.kind === 'webgpu';
  return (
    <span className={`badge ${gpu ? 'badge-gpu' : 'badge-cpu'}`} data-testid="backend-badge" data-backend={b.kind}
      data-adapter={b.adapter} role="status" title={b.reason ?? b.adapter}>
      <strong>{gpu ? 'WebGPU' : 'CPU'}</strong>
      <span className="badge-adapter">{b.adapter}</span>
    </span>
  );
}

/** The plain-words notice shown when WebGPU is not used. */
export function BackendNotice() {
  const b = useStudio((s) => s.backend);
  if (b.status !== 'ready' || b.kind !== 'cpu') return null;
  return (
    <div className="notice" role="note" data-testid="backend-notice">
      <strong>WebGPU is not available, so training runs on the CPU reference backend</strong> (slower, same results).{' '}
      <span className="notice-reason">Reason: {b.reason ?? 'unknown'}.</span>
    </div>
  );
}
