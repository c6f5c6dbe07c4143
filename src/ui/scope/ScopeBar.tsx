/**
 * Which model and data the results on the page belong to, always in view under the workflow steps, and what the
 * last switch did (reopened that pair's own results, or started clean; the old results are kept).
 */
import { useStudio } from '../studio-context.tsx';

export function ScopeBar() {
  const scope = useStudio((s) => s.scope);
  const notice = useStudio((s) => s.scopeNotice);
  const dismiss = useStudio((s) => s.dismissScopeNotice);
  const kept = useStudio((s) => Object.keys(s.shelf).length);
  return (
    <div className="scope-bar" data-testid="scope-bar" data-model={scope?.model ?? ''} data-data={scope?.data ?? ''}>
      <p>
        {scope
          ? <>Results on this page: <strong data-testid="scope-model">{scope.modelLabel}</strong> on <strong data-testid="scope-data">{scope.dataLabel}</strong>
            {kept > 0 && <span className="hint"> ({kept} other model/data {kept === 1 ? 'pair keeps its' : 'pairs keep their'} results)</span>}</>
          : 'Loading the data…'}
      </p>
      {notice && (
        <div className={`scope-notice ${notice.kind}`} role="status" aria-live="polite" data-testid="scope-notice" data-kind={notice.kind} data-changed={notice.changed}>
          <span>{notice.text}</span>
          <button type="button" className="link-button" onClick={dismiss}>Dismiss</button>
        </div>
      )}
    </div>
  );
}
