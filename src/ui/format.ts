/** Number and time formatting for the studio (pure, locale-independent so tests and screenshots agree). */

/** 32050 -> "32,050". */
export function formatInt(n: number): string {
  if (!Number.isFinite(n)) return '–';
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** 1234567 -> "1.23 M", 32050 -> "32.1 k", 950 -> "950". */
export function formatCompact(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toPrecision(3)} G`;
  if (a >= 1e6) return `${(n / 1e6).toPrecision(3)} M`;
  if (a >= 1e3) return `${(n / 1e3).toPrecision(3)} k`;
  return String(Math.round(n));
}

/** Seconds -> "m:ss" or "h:mm:ss"; "–" when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const t = Math.round(seconds);
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), s = t % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function formatFixed(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '–';
}

/** Learning rates and other small numbers: 0.005 -> "5.00e-3". */
export function formatSmall(n: number): string {
  if (!Number.isFinite(n)) return '–';
  return n !== 0 && Math.abs(n) < 0.01 ? n.toExponential(2) : n.toPrecision(3);
}
