/**
 * Node labels that stay inside their boxes: text measured with the font the viewer draws it in (a canvas'
 * measureText; an estimate per character where there is no canvas, as in Node), box widths from the measured op and
 * name, and a label shortened in the middle (with an ellipsis) when it does not fit. The fonts here are the ones
 * graph-viewer.css sets on the node texts.
 */
export const OP_FONT = "600 11px system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
export const NAME_FONT = "9px ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace";
/** Horizontal room a label leaves inside its box (each side 6 px). */
export const LABEL_PAD = 12;
export const NODE_MIN_W = 72;
export const NODE_MAX_W = 260;

/** Pixels a character at most, per font, where nothing can measure (wide enough that an estimate never spills). */
const EST: Record<string, number> = { [OP_FONT]: 7.2, [NAME_FONT]: 5.6 };

type Measure = (s: string, font: string) => number;
let ctx: { font: string; measureText(s: string): { width: number } } | null | undefined;

function canvasCtx() {
  if (ctx !== undefined) return ctx;
  try {
    const c = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(1, 1) : typeof document !== 'undefined' ? document.createElement('canvas') : null;
    ctx = (c?.getContext('2d') as typeof ctx) ?? null;
  } catch {
    ctx = null;
  }
  return ctx;
}

const cache = new Map<string, number>();
export const measureText: Measure = (s, font) => {
  const key = `${font}\u0000${s}`;
  let w = cache.get(key);
  if (w === undefined) {
    const c = canvasCtx();
    if (c) {
      c.font = font;
      w = c.measureText(s).width;
    } else w = s.length * (EST[font] ?? 7);
    if (cache.size > 20_000) cache.clear();
    cache.set(key, w);
  }
  return w;
};

/** A box wide enough for both lines, between NODE_MIN_W and NODE_MAX_W (longer labels are shortened). */
export function boxWidth(op: string, name: string, measure: Measure = measureText): number {
  const w = Math.max(measure(op, OP_FONT), name ? measure(name, NAME_FONT) : 0) + LABEL_PAD + 4;
  return Math.ceil(Math.max(NODE_MIN_W, Math.min(NODE_MAX_W, w)));
}

/** `s` as drawn in `w` pixels: itself, or shortened in the middle with an ellipsis (the longest that fits). */
export function fitLabel(s: string, w: number, font: string, measure: Measure = measureText): string {
  if (measure(s, font) <= w) return s;
  let lo = 0, hi = s.length - 1;
  const cut = (n: number) => `${s.slice(0, Math.ceil(n / 2))}…${s.slice(s.length - Math.floor(n / 2))}`;
  // The longest n (characters kept) whose shortened text fits.
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (measure(cut(mid), font) <= w) lo = mid;
    else hi = mid - 1;
  }
  return cut(lo);
}

/** Fits `s` into `w` pixels at ~`px` pixels a character, with an ellipsis in the middle when it does not (an estimate, no font). */
export function fitText(s: string, w: number, px: number): string {
  const n = Math.max(3, Math.floor(w / px));
  if (s.length <= n) return s;
  const head = Math.ceil((n - 1) / 2), tail = Math.floor((n - 1) / 2);
  return `${s.slice(0, head)}…${s.slice(s.length - tail)}`;
}
