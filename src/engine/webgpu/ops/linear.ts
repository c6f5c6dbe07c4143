/**
 * Dense layer on WebGPU: x [N, K], w [O, K] (PyTorch layout), b [O]. The three passes are one
 * register-tiled GEMM with strides in the uniform (shaders/matmul.wgsl), so no transposes are
 * materialized; the bias gradient is a column sum. When the contiguous dimensions are multiples of
 * 4 each pass runs its own vec4 entry point (mm_nt / mm_nn / mm_tn, 32 x 32 tiles).
 */
import code from '../../../../shaders/matmul.wgsl';
import { grid1d, i32, type GpuContext, type GpuTensor } from '../gpu-context.ts';

const KEY = 'matmul';
const TILE = 64;
/** Tile of the vec4 entry points (mm_nt, mm_nn, mm_tn). */
const VTILE = 32;

/** The vec4 entry point for a layout, when its contiguous dimensions are multiples of 4. */
type Layout = 'nt' | 'nn' | 'tn';
function vec4Entry(layout: Layout, g: Gemm): string | null {
  const ok = layout === 'nt' ? g.K % 4 === 0
    : layout === 'nn' ? g.K % 4 === 0 && g.NC % 4 === 0
    : g.M % 4 === 0 && g.NC % 4 === 0;
  return ok ? `mm_${layout}` : null;
}

interface Gemm {
  M: number; NC: number; K: number;
  sam: number; sak: number; sbk: number; sbn: number;
}

function gemm(ctx: GpuContext, a: GpuTensor, b: GpuTensor, bias: GpuTensor | null, g: Gemm, layout: Layout, outShape: readonly number[]): GpuTensor {
  const out = ctx.empty(outShape);
  if (g.M === 0 || g.NC === 0) return out;
  if (g.K === 0) {
    ctx.release(out);
    return ctx.zeros(outShape);
  }
  const v4 = vec4Entry(layout, g);
  const tileSize = v4 ? VTILE : TILE;
  const tilesN = Math.ceil(g.NC / tileSize);
  const tiles = Math.ceil(g.M / tileSize) * tilesN;
  ctx.run({
    key: KEY, code, entry: v4 ?? 'matmul',
    inputs: [a, b, bias ?? a], outputs: [out],
    params: [g.M, g.NC, g.K, g.sam, g.sak, g.sbk, g.sbn, bias ? 1 : 0, tilesN, tiles].map(i32),
    workgroups: grid1d(tiles, 1),
  });
  return out;
}

function dims2(op: string, name: string, t: GpuTensor): [number, number] {
  if (t.shape.length !== 2) throw new Error(`${op}: ${name} must be rank 2, got [${t.shape}]`);
  return [t.shape[0], t.shape[1]];
}

/** y[n,o] = sum_k x[n,k] w[o,k] + b[o]. */
export function linear(ctx: GpuContext, x: GpuTensor, w: GpuTensor, b: GpuTensor | null): GpuTensor {
  const [N, K] = dims2('linear', 'x', x);
  const [O, Kw] = dims2('linear', 'w', w);
  if (K !== Kw) throw new Error(`linear: x [${x.shape}] does not match w [${w.shape}]`);
  if (b && b.size !== O) throw new Error(`linear: bias has ${b.size} values for ${O} outputs`);
  return gemm(ctx, x, w, b, { M: N, NC: O, K, sam: K, sak: 1, sbk: 1, sbn: K }, 'nt', [N, O]);
}

/** dx[n,k] = sum_o dy[n,o] w[o,k]. */
export function linearBackwardInput(ctx: GpuContext, dy: GpuTensor, w: GpuTensor): GpuTensor {
  const [N, O] = dims2('linearBackwardInput', 'dy', dy);
  const [Ow, K] = dims2('linearBackwardInput', 'w', w);
  if (O !== Ow) throw new Error(`linearBackwardInput: dy [${dy.shape}] does not match w [${w.shape}]`);
  return gemm(ctx, dy, w, null, { M: N, NC: K, K: O, sam: O, sak: 1, sbk: K, sbn: 1 }, 'nn', [N, K]);
}

/** dw[o,k] = sum_n dy[n,o] x[n,k]. */
export function linearBackwardWeight(ctx: GpuContext, dy: GpuTensor, x: GpuTensor): GpuTensor {
  const [N, O] = dims2('linearBackwardWeight', 'dy', dy);
  const [Nx, K] = dims2('linearBackwardWeight', 'x', x);
  if (N !== Nx) throw new Error(`linearBackwardWeight: dy [${dy.shape}] does not match x [${x.shape}]`);
  return gemm(ctx, dy, x, null, { M: O, NC: K, K: N, sam: 1, sak: O, sbk: K, sbn: 1 }, 'tn', [O, K]);
}

/** db[o] = sum_n dy[n,o] for dy [N, O]. */
export function sumRows(ctx: GpuContext, dy: GpuTensor): GpuTensor {
  const [N, O] = dims2('sumRows', 'dy', dy);
  if (N === 0 || O === 0) return ctx.zeros([O]);
  const out = ctx.empty([O]);
  ctx.run({
    key: KEY, code, entry: 'sum_rows',
    inputs: [dy], outputs: [out],
    params: [N, O, 0, 0, 0, 0, 0, 0, 0, 0].map(i32),
    workgroups: grid1d(Math.ceil(O / 32), 1),
  });
  return out;
}
