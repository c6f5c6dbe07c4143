/** Downloads: the integer model file (.qsbin), the ONNX QDQ export (.qdq.onnx), the PyTorch export (.zip) and the JSON report. */
import { useStudio } from '../../studio-context.tsx';
import { deployFileNames, deployReport, reportBytes } from './deploy-report.ts';
import { downloadBytes } from './download.ts';

export function DeployDownloads() {
  const d = useStudio((s) => s.deploy);
  const dataName = useStudio((s) => s.data.summary?.name ?? 'data');
  const a = d.artifacts;
  if (!a) return null;
  const names = deployFileNames(a.model, a.source);
  const report = () => {
    const r = deployReport(d, { data: dataName, createdAt: new Date().toISOString() });
    if (r) downloadBytes(reportBytes(r), names.report, 'application/json');
  };
  return (
    <div className="deploy-downloads" role="group" aria-label="Downloads">
      <h3>Downloads</h3>
      <div className="buttons">
        <button type="button" data-testid="download-model-file" onClick={() => downloadBytes(a.modelFile, names.modelFile, 'application/octet-stream')}
          aria-label={`Download the model file ${names.modelFile} (${a.modelFile.length} bytes)`}>
          Model file (.qsbin, {Math.ceil(a.modelFile.length / 1024)} KiB)
        </button>
        <button type="button" data-testid="download-onnx" disabled={!a.onnx} title={a.onnx ? undefined : `The ONNX QDQ export failed: ${a.onnxError ?? 'unknown reason'}`} onClick={() => a.onnx && downloadBytes(a.onnx, names.onnx, 'application/octet-stream')}
          aria-label={a.onnx ? `Download the ONNX QDQ file ${names.onnx} (${a.onnx.length} bytes)` : 'ONNX QDQ export not available'}>
          ONNX QDQ (.qdq.onnx{a.onnx ? `, ${Math.ceil(a.onnx.length / 1024)} KiB` : ''})
        </button>
        <button type="button" data-testid="download-torch" disabled={!a.torchZip} onClick={() => a.torchZip && downloadBytes(a.torchZip, names.torch, 'application/zip')}
          title={a.torchZip ? 'The fused model, its weights and every scale for PyTorch (torch.ao QAT, train_qat.py for torchrun / DDP); see the README, Scaling out'
            : `The PyTorch export failed: ${a.torchError ?? 'unknown reason'}`}
          aria-label={a.torchZip ? `Download the PyTorch export ${names.torch} (${a.torchZip.length} bytes)` : 'PyTorch export not available'}>
          PyTorch QAT package (.zip{a.torchZip ? `, ${Math.ceil(a.torchZip.length / 1024)} KiB` : ''})
        </button>
        <button type="button" data-testid="download-report" disabled={!d.result} onClick={report}
          title={d.result ? undefined : 'The report needs a finished check'}>Report (.json)</button>
      </div>
      {a.torchError && <div className="error" role="alert" data-testid="deploy-torch-error"><strong>PyTorch export failed:</strong> <code>{a.torchError}</code></div>}
      {a.onnxError && <div className="error" role="alert" data-testid="deploy-onnx-error"><strong>ONNX export failed:</strong> <code>{a.onnxError}</code></div>}
    </div>
  );
}
