import { useCallback, useEffect, useMemo, useState } from 'react';
import { apiPath, type ApiClient } from '../api/client';
import type { Tenant, UsageGroupBy, UsageReport } from '../api/types';
import { BarChart, type BarPoint } from '../components/bar-chart';
import { StackedBarChart } from '../components/stacked-bar-chart';
import { Empty, ErrorNotice, Field, Loading } from '../components/ui';
import { useKeyNames } from './use-key-names';
import { averageDurationMs, DAY_MS, HOURLY_UP_TO_MS, rangeEndingNow, toBuckets, type Bucket, type UsageRange } from '../lib/usage-buckets';
import { seriesInterval, toStackedBuckets, type SeriesMetric } from '../lib/usage-series';

/** The API sums at most 93 days per query. */
const RANGES: { label: string; spanMs: number }[] = [
  { label: 'Last 24 hours', spanMs: DAY_MS },
  { label: 'Last 7 days', spanMs: 7 * DAY_MS },
  { label: 'Last 30 days', spanMs: 30 * DAY_MS },
  { label: 'Last 90 days', spanMs: 90 * DAY_MS },
];
const BREAKDOWNS: { groupBy: Exclude<UsageGroupBy, 'hour'>; label: string }[] = [
  { groupBy: 'plugin', label: 'Plugin' },
  { groupBy: 'tool', label: 'Tool' },
  { groupBy: 'key', label: 'API key' },
  { groupBy: 'subject', label: 'End user' },
];

const METRICS: { metric: SeriesMetric; label: string; unit: string }[] = [
  { metric: 'calls', label: 'Calls', unit: 'calls' },
  { metric: 'errors', label: 'Errors', unit: 'errors' },
  { metric: 'totalDurationMs', label: 'Total duration', unit: 'ms' },
];

interface Reports {
  range: UsageRange;
  hours: UsageReport;
  breakdown: UsageReport;
}

/** Tool calls of a tenant over time and per plugin, tool, key or end user, from the hourly usage records. */
export function UsageSection({ api, tenant }: { api: ApiClient; tenant: Tenant }) {
  const [spanMs, setSpanMs] = useState(DAY_MS);
  const [groupBy, setGroupBy] = useState<Exclude<UsageGroupBy, 'hour'>>('plugin');
  const [metric, setMetric] = useState<SeriesMetric>('calls');
  const [reports, setReports] = useState<Reports | null>(null);
  const keyNames = useKeyNames(api, tenant.id);
  const [error, setError] = useState<unknown>();

  const load = useCallback(async () => {
    const range = rangeEndingNow(spanMs, new Date());
    const path = (by: UsageGroupBy) => `${apiPath('tenants', tenant.id, 'usage')}?from=${range.from.toISOString()}&to=${range.to.toISOString()}&groupBy=${by}`;
    try {
      // The breakdown comes with each group over time (its series), per hour or per day like the chart above it.
      const [hours, breakdown] = await Promise.all([api.get<UsageReport>(path('hour')), api.get<UsageReport>(`${path(groupBy)}&interval=${seriesInterval(range)}`)]);
      setReports({ range, hours, breakdown });
      setError(undefined);
    } catch (failure) {
      setError(failure);
    }
  }, [api, tenant.id, spanMs, groupBy]);
  useEffect(() => {
    void load();
  }, [load]);
  const buckets = useMemo(() => (reports ? toBuckets(reports.range, reports.hours.groups) : []), [reports]);
  const daily = reports ? reports.range.to.getTime() - reports.range.from.getTime() > HOURLY_UP_TO_MS : false;
  const stacked = useMemo(() => (reports ? toStackedBuckets(reports.range, reports.breakdown.series ?? [], metric) : undefined), [reports, metric]);
  const breakdown = BREAKDOWNS.find((candidate) => candidate.groupBy === groupBy)!;
  const breakdownName = breakdown.label.replace(/^[A-Z][a-z]/, (start) => start.toLowerCase());
  const shown = METRICS.find((candidate) => candidate.metric === metric)!;
  const groupName = (group: string) => (groupBy === 'key' ? (keyNames.get(group) ?? group) : group);

  return (
    <section aria-labelledby="usage">
      <h2 id="usage">Usage</h2>
      <div className="inline-form">
        <Field label="Time range">
          {(props) => (
            <select {...props} value={spanMs} onChange={(event) => setSpanMs(Number(event.target.value))}>
              {RANGES.map((range) => (
                <option key={range.spanMs} value={range.spanMs}>
                  {range.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Break down by">
          {(props) => (
            <select {...props} value={groupBy} onChange={(event) => setGroupBy(event.target.value as typeof groupBy)}>
              {BREAKDOWNS.map((breakdown) => (
                <option key={breakdown.groupBy} value={breakdown.groupBy}>
                  {breakdown.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button type="button" onClick={() => void load()}>
          Refresh usage
        </button>
      </div>
      <p className="hint">Counted per hour (UTC) once the usage worker has written them, usually within a second of a call.</p>
      <ErrorNotice error={error} />
      {!reports ? (
        !error && <Loading what="usage" />
      ) : (
        <>
          <dl className="totals" aria-label="Totals for the range">
            <div>
              <dt>Calls</dt>
              <dd>{reports.hours.totals.calls}</dd>
            </div>
            <div>
              <dt>Errors</dt>
              <dd>{reports.hours.totals.errors}</dd>
            </div>
            <div>
              <dt>Average duration</dt>
              <dd>{averageDurationMs(reports.hours.totals)} ms</dd>
            </div>
          </dl>
          <div className="charts">
            <BarChart title={`Calls per ${daily ? 'day' : 'hour'}`} unit="calls" partName="errors" points={buckets.map((bucket) => point(bucket, daily, bucket.calls, bucket.errors))} />
            <BarChart title={`Average duration per ${daily ? 'day' : 'hour'}`} unit="ms" points={buckets.map((bucket) => point(bucket, daily, averageDurationMs(bucket)))} />
          </div>
          <h3 className="breakdown-heading">By {breakdownName}</h3>
          {reports.breakdown.groups.length === 0 ? (
            <Empty>No tool calls in this range.</Empty>
          ) : (
            <>
              <div className="inline-form">
                <Field label="Show">
                  {(props) => (
                    <select {...props} value={metric} onChange={(event) => setMetric(event.target.value as SeriesMetric)}>
                      {METRICS.map((candidate) => (
                        <option key={candidate.metric} value={candidate.metric}>
                          {candidate.label}
                        </option>
                      ))}
                    </select>
                  )}
                </Field>
              </div>
              {stacked && (
                <StackedBarChart
                  title={`${shown.label} per ${daily ? 'day' : 'hour'} by ${breakdownName}`}
                  unit={shown.unit}
                  series={stacked.series.map(groupName)}
                  bars={stacked.buckets.map((bucket) => ({ label: bucketLabel(bucket.at, daily), values: bucket.values }))}
                />
              )}
              <div className="table-wrap">
                <table>
                  <caption className="visually-hidden">Usage by {groupBy}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{breakdown.label}</th>
                      <th scope="col">Calls</th>
                      <th scope="col">Errors</th>
                      <th scope="col">Average duration</th>
                      <th scope="col">Total duration</th>
                    </tr>
                  </thead>
                  <tbody>
                    {reports.breakdown.groups.map((group) => (
                      <tr key={group.group}>
                        <th scope="row" className="mono">
                          {groupName(group.group)}
                        </th>
                        <td>{group.calls}</td>
                        <td>{group.errors}</td>
                        <td>{averageDurationMs(group)} ms</td>
                        <td>{group.totalDurationMs} ms</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )}
        </>
      )}
    </section>
  );
}

function point(bucket: Bucket, daily: boolean, value: number, part?: number): BarPoint {
  return { label: bucketLabel(bucket.at, daily), value, ...(part !== undefined ? { part } : {}) };
}

function bucketLabel(at: Date, daily: boolean): string {
  return daily
    ? at.toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' })
    : at.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'UTC', hour12: false });
}
