/** Project status (restored / saved in this browser) and export / import of a project file. */
import { useRef, useState } from 'react';
import { PROJECT_FILE_EXT } from '../../persist/project-file.ts';
import { useProject } from '../../controllers-context.tsx';
import { useStudio } from '../../studio-context.tsx';

export function ProjectBar() {
  const project = useStudio((s) => s.project);
  const busy = useStudio((s) => s.run.status !== 'idle' || s.quant.job.status !== 'idle');
  const ctl = useProject();
  const input = useRef<HTMLInputElement>(null);
  const [importError, setImportError] = useState<string | null>(null);

  const exportFile = () => {
    const blob = new Blob([ctl.exportBytes() as Uint8Array<ArrayBuffer>], { type: 'application/zip' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `quant-studio${PROJECT_FILE_EXT}`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  };
  const importFile = async (f: File) => {
    setImportError(null);
    try {
      await ctl.importBytes(new Uint8Array(await f.arrayBuffer()), f.name);
    } catch (e) {
      setImportError((e as Error).message);
    }
  };

  return (
    <div className="project-bar">
      <span className="hint" data-testid="project-status" data-status={project.status} data-saved-at={project.savedAt ?? ''} role="status">
        {project.status === 'restoring' ? 'Restoring the project…' : project.savedAt ? `Saved in this browser ${new Date(project.savedAt).toLocaleTimeString()}` : 'Not saved yet'}
      </span>
      <button type="button" data-testid="project-export" onClick={exportFile} disabled={project.status !== 'ready'}
        title={project.status !== 'ready' ? 'Wait for the saved project to be restored.' : undefined}>Export project</button>
      <label className="button-like" title={busy ? 'Locked while a job runs.' : undefined}>Import project…
        <input ref={input} type="file" className="sr-only" accept={PROJECT_FILE_EXT} data-testid="project-import" disabled={busy}
          onChange={(e) => { const f = e.target.files?.[0]; e.target.value = ''; if (f) void importFile(f); }} />
      </label>
      {(importError || project.error) && <span className="field-error" role="alert" data-testid="project-error">{importError ?? project.error}</span>}
    </div>
  );
}
