/**
 * Draw only what is visible: a uniform grid over the layout's boxes (nodes, frames, edges' bounding boxes) that
 * answers "which boxes meet this rectangle" in time proportional to the answer, so a pan or zoom frame of a
 * 2 000-node graph touches only the nodes in view. Pure.
 */
export interface Box { x0: number; y0: number; x1: number; y1: number }

export class BoxGrid {
  private readonly cells = new Map<number, number[]>();
  private readonly mark: Uint32Array;
  private stamp = 0;
  /** The cells that hold anything: [cx0, cy0, cx1, cy1]. */
  private readonly span = [Infinity, Infinity, -Infinity, -Infinity];

  constructor(private readonly boxes: readonly Box[], private readonly cell = 256) {
    this.mark = new Uint32Array(boxes.length);
    boxes.forEach((b, i) => {
      for (let cy = Math.floor(b.y0 / cell); cy <= Math.floor(b.y1 / cell); cy++) {
        for (let cx = Math.floor(b.x0 / cell); cx <= Math.floor(b.x1 / cell); cx++) {
          this.span[0] = Math.min(this.span[0], cx); this.span[1] = Math.min(this.span[1], cy);
          this.span[2] = Math.max(this.span[2], cx); this.span[3] = Math.max(this.span[3], cy);
          const k = key(cx, cy);
          const list = this.cells.get(k);
          if (list) list.push(i);
          else this.cells.set(k, [i]);
        }
      }
    });
  }

  /** Indices of the boxes that meet `r`, in ascending order. */
  query(r: Box): number[] {
    const out: number[] = [];
    this.stamp = (this.stamp + 1) >>> 0 || 1;
    const c = this.cell;
    // Cells outside the layout hold nothing: clamp the walk to the cells that exist (zoomed far out, the view is huge).
    const [sx0, sy0, sx1, sy1] = this.span;
    for (let cy = Math.max(sy0, Math.floor(r.y0 / c)); cy <= Math.min(sy1, Math.floor(r.y1 / c)); cy++) {
      for (let cx = Math.max(sx0, Math.floor(r.x0 / c)); cx <= Math.min(sx1, Math.floor(r.x1 / c)); cx++) {
        const list = this.cells.get(key(cx, cy));
        if (!list) continue;
        for (const i of list) {
          if (this.mark[i] === this.stamp) continue;
          this.mark[i] = this.stamp;
          const b = this.boxes[i];
          if (b.x1 >= r.x0 && b.x0 <= r.x1 && b.y1 >= r.y0 && b.y0 <= r.y1) out.push(i);
        }
      }
    }
    return out.sort((a, b) => a - b);
  }
}

/** One number per cell (cells span ±2^20 each way, far beyond any layout). */
const key = (cx: number, cy: number) => (cx + 1_048_576) * 2_097_152 + (cy + 1_048_576);

/** The part of the layout in view for a zoom transform (x, y, k) and a drawing of w×h pixels, with a margin. */
export function viewRect(t: { x: number; y: number; k: number }, w: number, h: number, marginPx = 60): Box {
  return { x0: (-t.x - marginPx) / t.k, y0: (-t.y - marginPx) / t.k, x1: (w - t.x + marginPx) / t.k, y1: (h - t.y + marginPx) / t.k };
}
