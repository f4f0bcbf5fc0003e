import { useCallback, useEffect, useState } from 'react';
import { apiPath, type ApiClient } from '../api/client';
import type { FailedUsageJob, FailedUsageJobs } from '../api/types';
import { ListPanel } from '../components/list-panel';
import { ConfirmButton, PageHeading } from '../components/ui';

const PAGE_SIZE = 25;

/**
 * Usage jobs that failed every retry (cluster mode): their calls are not in anyone's usage yet.
 * Retry puts one back with fresh retries (the aggregator counts each event once, so a retry never
 * counts twice); discard drops its calls for good.
 */
export function UsageJobsPage({ api }: { api: ApiClient }) {
  const [jobs, setJobs] = useState<FailedUsageJobs | null>(null);
  const [error, setError] = useState<unknown>();
  const [notice, setNotice] = useState('');

  const load = useCallback(
    async (offset = 0) => {
      try {
        const page = await api.get<FailedUsageJobs>(`/v1/usage/failed-jobs?limit=${PAGE_SIZE}&offset=${offset}`);
        setJobs((previous) => (offset > 0 && previous ? { ...page, items: [...previous.items, ...page.items] } : page));
        setError(undefined);
      } catch (failure) {
        setError(failure);
      }
    },
    [api],
  );
  useEffect(() => {
    void load();
  }, [load]);

  async function act(job: FailedUsageJob, action: 'retry' | 'discard') {
    try {
      if (action === 'retry') await api.send('POST', apiPath('usage', 'failed-jobs', job.id, 'retry'));
      else await api.send('DELETE', apiPath('usage', 'failed-jobs', job.id));
      setNotice(action === 'retry' ? `Job ${job.id} is queued again.` : `Job ${job.id} discarded.`);
      // Indexes shift when a job leaves the failed list: read again from the first page.
      await load();
    } catch (failure) {
      setError(failure);
    }
  }

  return (
    <>
      <PageHeading>Failed usage jobs</PageHeading>
      <p className="hint">
        Batches of tool-call usage the worker could not write to Postgres after every retry. Their calls are missing from usage until one is retried.
      </p>
      <ListPanel
        // Embedded mode has no queue: its empty list says why.
        items={jobs && (jobs.mode === 'embedded' ? [] : jobs.items)}
        error={error}
        toolbar={
          <button type="button" onClick={() => void load()}>
            Refresh jobs
          </button>
        }
        notice={notice}
        loading="failed jobs"
        empty={jobs?.mode === 'embedded' ? 'Embedded mode (npm start): usage is written in process, with no queue, so no job can fail here.' : 'No failed usage jobs.'}
        caption="Failed usage jobs"
        paging={{ kind: 'server', total: jobs?.total ?? 0, moreLabel: 'Load more jobs', onMore: jobs?.nextOffset != null ? () => void load(jobs.nextOffset!) : undefined }}
      >
        {(items) => (
          <>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Reason</th>
                <th scope="col">Attempts</th>
                <th scope="col">Queued</th>
                <th scope="col">Failed</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((job) => (
                <tr key={job.id}>
                  <td className="mono">{job.id}</td>
                  <td className="details">{job.failedReason}</td>
                  <td>{job.attemptsMade}</td>
                  <td>{new Date(job.queuedAt).toLocaleString()}</td>
                  <td>{job.failedAt ? new Date(job.failedAt).toLocaleString() : ''}</td>
                  <td>
                    <span className="actions">
                      <button type="button" onClick={() => void act(job, 'retry')}>
                        Retry<span className="visually-hidden"> job {job.id}</span>
                      </button>
                      <ConfirmButton
                        label="Discard"
                        question="Discard this job? Its calls are never counted."
                        confirmLabel={`Discard job ${job.id}`}
                        onConfirm={() => void act(job, 'discard')}
                      />
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </>
        )}
      </ListPanel>
    </>
  );
}
