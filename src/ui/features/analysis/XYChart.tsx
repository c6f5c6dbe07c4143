/**
 * A small d3 line chart (scales, ticks and the path from d3; drawn as React SVG): the layer curves along the depth of
 * the network and the accuracy / latency curve of mixed precision. Points can carry labels and a click handler.
 */
import { extent, line, scaleLinear } from 'd3';

export interface XYPoint { x: number; y: number; label?: string; key: string }

export function XYChart({ points, xLabel, yLabel, testId, width = 460, height = 200, onPick }: {
  points: XYPoint[]; xLabel: string; yLabel: string; testId: string; width?: number; height?: number; onPick?: (p: XYPoint) => void;
}) {
  const m = { l: 48, r: 12, t: 10, b: 34 };
  const finite = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const [x0, x1] = extent(finite, (p) => p.x) as [number, number] | [undefined, undefined];
  const [y0, y1] = extent(finite, (p) => p.y) as [number, number] | [undefined, undefined];
  const pad = (lo: number, hi: number) => (lo === hi ? [lo - 1, hi + 1] : [lo, hi]);
  const xs = scaleLinear().domain(pad(x0 ?? 0, x1 ?? 1)).range([m.l, width - m.r]).nice();
  const ys = scaleLinear().domain(pad(y0 ?? 0, y1 ?? 1)).range([height - m.b, m.t]).nice();
  const path = line<XYPoint>().x((p) => xs(p.x)).y((p) => ys(p.y))(finite) ?? '';
  return (
    <svg className="xy-chart" data-testid={testId} data-points={finite.length} width={width} height={height} role="img" aria-label={`${yLabel} against ${xLabel}, ${finite.length} points`}>
      <g className="axis">
        {xs.ticks(6).map((t) => <g key={`x${t}`} transform={`translate(${xs(t)},${height - m.b})`}><line y2={4} /><text y={16} textAnchor="middle">{t}</text></g>)}
        {ys.ticks(5).map((t) => <g key={`y${t}`} transform={`translate(${m.l},${ys(t)})`}><line x2={-4} /><text x={-6} dy="0.32em" textAnchor="end">{t}</text></g>)}
        <line x1={m.l} x2={width - m.r} y1={height - m.b} y2={height - m.b} />
        <line x1={m.l} x2={m.l} y1={m.t} y2={height - m.b} />
        <text x={(m.l + width - m.r) / 2} y={height - 4} textAnchor="middle">{xLabel}</text>
        <text transform={`translate(12,${(m.t + height - m.b) / 2}) rotate(-90)`} textAnchor="middle">{yLabel}</text>
      </g>
      <path d={path} className="xy-line" />
      {finite.map((p) => (
        <circle key={p.key} cx={xs(p.x)} cy={ys(p.y)} r={4} className="xy-dot" onClick={onPick ? () => onPick(p) : undefined}>
          <title>{p.label ?? `${p.x}, ${p.y}`}</title>
        </circle>
      ))}
    </svg>
  );
}
