/**
 * A kernel's uniforms declared once: the WGSL struct and the TypeScript packer come from one field list, so the
 * struct's field order and the values' order cannot drift apart (no positional `params` arrays at call sites).
 *
 *   const P = uniforms('Params', { total: 'u32', lo: 'i32', hi: 'i32' });
 *   code: `${P.wgsl}\n${src}`               // src declares `var<uniform> p: Params;` and reads p.total ...
 *   params: P.pack({ total: n, lo: -128, hi: 127 })
 */
import type { ParamValue } from './gpu-context.ts';

export type UniformType = 'u32' | 'i32' | 'f32';

export interface Uniforms<F extends Record<string, UniformType>> {
  readonly name: string;
  readonly fields: F;
  /** `struct <name> { a: u32, b: i32 }` for the shader source. */
  readonly wgsl: string;
  /** The values in the struct's field order, for DispatchSpec.params. */
  pack(values: { readonly [K in keyof F]: number }): ParamValue[];
}

export function uniforms<F extends Record<string, UniformType>>(name: string, fields: F): Uniforms<F> {
  const keys = Object.keys(fields) as (keyof F & string)[];
  if (!keys.length) throw new Error(`uniforms ${name}: no fields`);
  const wgsl = `struct ${name} { ${keys.map((k) => `${k}: ${fields[k]}`).join(', ')} }`;
  return {
    name, fields, wgsl,
    pack: (values) => keys.map((k) => {
      const v = values[k];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`uniforms ${name}.${k}: ${String(v)} is not a finite number`);
      return [fields[k], v] as const;
    }),
  };
}
