/** React access to the analysis controller (created once, in main.tsx). */
import { createContext, useContext, type ReactNode } from 'react';
import type { AnalysisController } from './analysis-controller.ts';

const Ctx = createContext<AnalysisController | null>(null);

export function AnalysisControllerProvider({ value, children }: { value: AnalysisController; children: ReactNode }) {
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useAnalysis(): AnalysisController {
  const c = useContext(Ctx);
  if (!c) throw new Error('AnalysisControllerProvider is missing');
  return c;
}
