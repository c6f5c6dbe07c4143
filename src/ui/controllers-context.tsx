/** React access to the data, quantization and project controllers (created once, in main.tsx). */
import { createContext, useContext, type ReactNode } from 'react';
import type { DataController } from './features/data/data-controller.ts';
import type { ProjectController } from './features/project/project-controller.ts';
import type { QuantController } from './features/quant/quant-controller.ts';

export interface Controllers {
  data: DataController;
  quant: QuantController;
  project: ProjectController;
}

const Ctx = createContext<Controllers | null>(null);

export function ControllersProvider({ value, children }: { value: Controllers; children: ReactNode }) {
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

function use(): Controllers {
  const c = useContext(Ctx);
  if (!c) throw new Error('ControllersProvider is missing');
  return c;
}

export const useData = () => use().data;
export const useQuant = () => use().quant;
export const useProject = () => use().project;
