import { useId } from 'react';
import { niceMax } from '../lib/usage-buckets';

export interface BarPoint {
  /** Shown under the first and last bar and in the table. */
  label: string;
  value: number;
  /** A part of `value` drawn over it in the highlight colour (errors of calls). */
  part?: number;
}

interface BarChartProps {
  title: string;
  /** What a value counts, for the table and the description: "calls", "ms". */
  unit: string;
  points: BarPoint[];
  /** Name of `part` for the legend and the table ("errors"); without it there is no part. */
  partName?: string;
}

const WIDTH = 640;
const HEIGHT = 180;
const PAD = { top: 12, right: 8, bottom: 24, left: 44 };

export interface ChartFrame {
  width: number;
  height: number;
  pad: { top: number; right: number; bottom: number; left: number };
}

/** What every chart here draws around its bars: the base line, the top of the scale, and the first and last bar's labels. */
export function ChartAxes({ frame, max, y, first, last }: { frame: ChartFrame; max: number; y: (value: number) => number; first?: string; last?: string }) {
  const { width, height, pad } = frame;
  return (
    <>
      <line x1={pad.left} x2={width - pad.right} y1={y(0)} y2={y(0)} className="chart-axis" />
      <line x1={pad.left} x2={width - pad.right} y1={y(max)} y2={y(max)} className="chart-grid" />
      <text x={pad.left - 6} y={y(max) + 4} textAnchor="end" className="chart-label">
        {max}
      </text>
      <text x={pad.left - 6} y={y(0) + 4} textAnchor="end" className="chart-label">
        0
      </text>
      {first !== undefined && (
        <text x={pad.left} y={height - 6} className="chart-label">
          {first}
        </text>
      )}
      {last !== undefined && (
        <text x={width - pad.right} y={height - 6} textAnchor="end" className="chart-label">
          {last}
        </text>
      )}
    </>
  );
}

/**
 * A bar chart drawn as plain SVG (no chart library: one kind of chart, a few dozen lines). The
 * SVG is an image with a one-sentence description; the same numbers follow as a table.
 */
export function BarChart({ title, unit, points, partName }: BarChartProps) {
  const id = useId();
  const max = niceMax(Math.max(0, ...points.map((point) => point.value)));
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const slot = points.length > 0 ? plotWidth / points.length : plotWidth;
  const barWidth = Math.max(1, slot * 0.8);
  const y = (value: number) => PAD.top + plotHeight - (value / max) * plotHeight;
  const total = points.reduce((sum, point) => sum + point.value, 0);
  const peak = points.reduce<BarPoint | undefined>((best, point) => (!best || point.value > best.value ? point : best), undefined);
  const description =
    total === 0 || !peak
      ? `No ${unit} from ${points[0]?.label ?? ''} to ${points.at(-1)?.label ?? ''}.`
      : `${points.length} bars from ${points[0]!.label} to ${points.at(-1)!.label}; highest ${peak.value} ${unit} at ${peak.label}.`;

  return (
    <figure className="chart">
      <figcaption id={`${id}-title`}>{title}</figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby={`${id}-title`} aria-describedby={`${id}-desc`} className="chart-svg">
        <desc id={`${id}-desc`}>{description}</desc>
        <ChartAxes frame={{ width: WIDTH, height: HEIGHT, pad: PAD }} max={max} y={y} first={points[0]?.label} last={points.at(-1)?.label} />
        {points.map((point, index) => {
          const x = PAD.left + index * slot + (slot - barWidth) / 2;
          return (
            <g key={point.label}>
              <rect x={x} y={y(point.value)} width={barWidth} height={y(0) - y(point.value)} className="chart-bar" />
              {partName && point.part ? <rect x={x} y={y(point.part)} width={barWidth} height={y(0) - y(point.part)} className="chart-bar-part" /> : null}
            </g>
          );
        })}
      </svg>
      {partName && (
        <p className="chart-legend" aria-hidden="true">
          <span className="swatch swatch-bar" /> {unit} <span className="swatch swatch-part" /> {partName}
        </p>
      )}
      <details>
        <summary>{title} as a table</summary>
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">{unit}</th>
                {partName && <th scope="col">{partName}</th>}
              </tr>
            </thead>
            <tbody>
              {points.map((point) => (
                <tr key={point.label}>
                  <th scope="row">{point.label}</th>
                  <td>{point.value}</td>
                  {partName && <td>{point.part ?? 0}</td>}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
