/** React access to the deployment controller (created once, in main.tsx). */
import { createContext, useContext, type ReactNode } from 'react';
import type { DeployController } from './deploy-controller.ts';

const Ctx = createContext<DeployController | null>(null);

export function DeployControllerProvider({ value, children }: { value: DeployController; children: ReactNode }) {
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useDeploy(): DeployController {
  const c = useContext(Ctx);
  if (!c) throw new Error('DeployControllerProvider is missing');
  return c;
}
