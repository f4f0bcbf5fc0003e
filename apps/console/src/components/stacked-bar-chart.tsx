import { useId } from 'react';
import { niceMax } from '../lib/usage-buckets';
import { ChartAxes } from './bar-chart';

export interface StackedBar {
  /** Shown under the first and last bar and in the table. */
  label: string;
  /** One value per series, in the order of `series`. */
  values: number[];
}

interface StackedBarChartProps {
  title: string;
  /** What a value counts, for the table and the description: "calls", "ms". */
  unit: string;
  /** Names of the stacked series, bottom first; colours follow `.chart-series-<i>` in styles.css. */
  series: string[];
  bars: StackedBar[];
}

const WIDTH = 640;
const HEIGHT = 200;
const PAD = { top: 12, right: 8, bottom: 24, left: 52 };

/**
 * Bars stacked by series (calls per hour of each plugin, say), plain SVG like BarChart: an image
 * with a one-sentence description, a legend in text, and the same numbers as a table.
 */
export function StackedBarChart({ title, unit, series, bars }: StackedBarChartProps) {
  const id = useId();
  const sums = bars.map((bar) => bar.values.reduce((sum, value) => sum + value, 0));
  const max = niceMax(Math.max(0, ...sums));
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const slot = bars.length > 0 ? plotWidth / bars.length : plotWidth;
  const barWidth = Math.max(1, slot * 0.8);
  const height = (value: number) => (value / max) * plotHeight;
  const base = PAD.top + plotHeight;
  const totals = series.map((_, i) => bars.reduce((sum, bar) => sum + (bar.values[i] ?? 0), 0));
  const description =
    series.length === 0
      ? `No ${unit} from ${bars[0]?.label ?? ''} to ${bars.at(-1)?.label ?? ''}.`
      : `${bars.length} bars from ${bars[0]?.label ?? ''} to ${bars.at(-1)?.label ?? ''}, stacked by ${series.length} series; in all ${series.map((name, i) => `${name} ${totals[i]}`).join(', ')} ${unit}.`;

  return (
    <figure className="chart chart-wide">
      <figcaption id={`${id}-title`}>{title}</figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby={`${id}-title`} aria-describedby={`${id}-desc`} className="chart-svg">
        <desc id={`${id}-desc`}>{description}</desc>
        <ChartAxes frame={{ width: WIDTH, height: HEIGHT, pad: PAD }} max={max} y={(value) => base - height(value)} first={bars[0]?.label} last={bars.at(-1)?.label} />
        {bars.map((bar, index) => {
          const x = PAD.left + index * slot + (slot - barWidth) / 2;
          let top = base;
          return (
            <g key={bar.label}>
              {bar.values.map((value, i) => {
                if (value <= 0) return null;
                top -= height(value);
                return <rect key={series[i]} x={x} y={top} width={barWidth} height={height(value)} className={`chart-series-${i}`} />;
              })}
            </g>
          );
        })}
      </svg>
      {series.length > 0 && (
        <ul className="chart-legend" aria-label={`Series of ${title}`}>
          {series.map((name, i) => (
            <li key={name}>
              <span className={`swatch swatch-series-${i}`} aria-hidden="true" /> <span className="mono">{name}</span>
            </li>
          ))}
        </ul>
      )}
      <details>
        <summary>{title} as a table</summary>
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Time</th>
                {series.map((name) => (
                  <th key={name} scope="col" className="mono">
                    {name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {bars.map((bar) => (
                <tr key={bar.label}>
                  <th scope="row">{bar.label}</th>
                  {bar.values.map((value, i) => (
                    <td key={series[i]}>{value}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
