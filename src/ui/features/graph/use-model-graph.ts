/**
 * The current model's (zoo or imported) graph before and after fusion and the quantization plan of each under the
 * Quantize settings (memoized on model, input shape, classes and qconfig; all pure and small).
 */
import { useMemo } from 'react';
import type { Graph } from '../../../graph/ir.ts';
import { fuse } from '../../../graph/passes/fuse.ts';
import { buildModel } from '../../../models/zoo.ts';
import { initHostParams } from '../../../nn/params.ts';
import { prepare, type QuantPlan } from '../../../quant/prepare.ts';
import { inputShapeOf } from '../../store/data-slice.ts';
import { useStudio } from '../../studio-context.tsx';
import { qconfigOf } from '../quant/qconfig-of.ts';

export interface ModelGraphs { unfused: Graph; fused: Graph; planUnfused: QuantPlan | null; planFused: QuantPlan | null; error: string | null }

export function useModelGraphs(): ModelGraphs {
  const model = useStudio((s) => s.modelName);
  const shape = useStudio((s) => inputShapeOf(s.data).join('x'));
  const classes = useStudio((s) => s.data.summary?.classNames.length ?? 10);
  const q = useStudio((s) => s.quant.settings);
  const yuv = useStudio((s) => s.data.prep.yuv);
  const imported = useStudio((s) => s.imported);
  const graphs = useMemo(() => {
    // An imported model is drawn as imported (its own input shape and classes); fusion needs only its structure.
    const unfused = imported?.graph ?? buildModel(model, { inputShape: shape.split('x').map(Number), numClasses: classes });
    return { unfused, fused: fuse(unfused, initHostParams(unfused, 0)).graph };
  }, [model, shape, classes, imported]);
  return useMemo(() => {
    try {
      const qc = qconfigOf(q, yuv);
      return { ...graphs, planUnfused: prepare(graphs.unfused, qc), planFused: prepare(graphs.fused, qc), error: null };
    } catch (e) {
      return { ...graphs, planUnfused: null, planFused: null, error: (e as Error).message };
    }
  }, [graphs, q, yuv]);
}
