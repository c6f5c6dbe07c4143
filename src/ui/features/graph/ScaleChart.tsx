/**
 * Per-channel weight scales as a bar chart (one bar per output channel, linear from 0), with the smallest, the
 * median and the largest scale and their spread written out: a channel whose scale is far above the rest shows.
 */
export function scaleSummary(v: readonly number[]): { min: number; median: number; max: number } {
  const s = [...v].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor((s.length - 1) / 2)], max: s[s.length - 1] };
}

export function ScaleChart({ scales, width = 280, height = 64 }: { scales: readonly number[]; width?: number; height?: number }) {
  if (!scales.length) return null;
  const { min, median, max } = scaleSummary(scales);
  const bw = width / scales.length;
  const y = (v: number) => height - (max > 0 ? (v / max) * (height - 2) : 0);
  // One path for all bars: 1 280 channels draw as cheaply as 16.
  const d = scales.map((v, i) => `M${(i * bw).toFixed(2)},${height}V${y(v).toFixed(2)}h${Math.max(0.6, bw - (bw > 3 ? 1 : 0)).toFixed(2)}V${height}z`).join('');
  return (
    <figure className="scale-chart" data-testid="detail-weight-scale-chart" data-channels={scales.length} data-min={min} data-max={max}>
      <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img"
        aria-label={`Weight scale of each of ${scales.length} output channels: ${min.toPrecision(3)} to ${max.toPrecision(3)}, median ${median.toPrecision(3)}`}>
        <path className="bars" d={d} />
        <line className="median" x1={0} x2={width} y1={y(median)} y2={y(median)} />
      </svg>
      <figcaption className="hint">
        {scales.length} channels: min {min.toPrecision(3)}, median {median.toPrecision(3)} (line), max {max.toPrecision(3)}
        {min > 0 ? ` (max / min ${(max / min).toFixed(1)})` : ''}
      </figcaption>
    </figure>
  );
}
