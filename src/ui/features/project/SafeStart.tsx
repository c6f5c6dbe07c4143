/**
 * The safe start: shown when parts of the saved project could not be restored. It names each part and
 * why, says what the studio started with instead, and offers to discard them (until then nothing is
 * saved over the saved project, so reloading in a fixed version can still restore it).
 */
import { useProject } from '../../controllers-context.tsx';
import { useStudio } from '../../studio-context.tsx';

export function SafeStart() {
  const parts = useStudio((s) => s.project.unrestored);
  const ctl = useProject();
  if (!parts) return null;
  return (
    <div className="error safe-start" role="alert" data-testid="safe-start">
      <strong>Safe start: part of the saved project could not be restored.</strong>
      <ul>
        {parts.map((p, i) => <li key={i} data-testid="safe-start-part"><strong>{p.part}</strong>: {p.reason}</li>)}
      </ul>
      <p>The studio opened without {parts.length === 1 ? 'it' : 'them'} (with the built-in data where the data set is missing).
        Nothing is saved in this browser until you discard {parts.length === 1 ? 'it' : 'them'}.</p>
      <button type="button" data-testid="safe-start-discard" onClick={() => ctl.discardUnrestored()}>Discard what could not be restored</button>
    </div>
  );
}
