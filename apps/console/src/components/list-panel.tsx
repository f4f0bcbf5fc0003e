import { useState, type ReactNode } from 'react';
import { Empty, ErrorNotice, Loading } from './ui';

/**
 * How a list pages: `server`, the API's pages loaded so far (`onMore` reads the next; absent on
 * the last); `client`, a list the API returns whole, shown `pageSize` rows at a time.
 */
export type ListPaging =
  | { kind: 'server'; total: number; moreLabel: string; onMore?: () => void }
  | { kind: 'client'; pageSize: number; moreLabel: string };

interface ListPanelProps<T> {
  /** null while the first read is under way (or failed). */
  items: T[] | null;
  error: unknown;
  /** False when the failure is shown beside a field instead (a filter the API refused). */
  showError?: boolean;
  /** "Loading {loading}…" */
  loading: string;
  empty: ReactNode;
  /** The controls above the list (Refresh …), with `notice` beside them. */
  toolbar?: ReactNode;
  /** What the last action did, announced; shown in the toolbar, or on its own line without one. */
  notice?: string;
  /** The table's accessible name (visually hidden). */
  caption: string;
  paging?: ListPaging;
  /** The table's head and body for the rows shown. */
  children: (items: T[]) => ReactNode;
}

/** A list page's scaffold: toolbar and status, error, loading, empty, the table, "Showing n of m" and the pager. */
export function ListPanel<T>({ items, error, showError = true, loading, empty, toolbar, notice, caption, paging, children }: ListPanelProps<T>) {
  const [shown, setShown] = useState(paging?.kind === 'client' ? paging.pageSize : Infinity);
  const visible = items && paging?.kind === 'client' ? items.slice(0, shown) : items;
  return (
    <>
      {toolbar ? (
        <div className="toolbar">
          {toolbar}
          {notice !== undefined && (
            <span role="status" className="copy-state">
              {notice}
            </span>
          )}
        </div>
      ) : (
        notice !== undefined && (
          <p role="status" className="copy-state">
            {notice}
          </p>
        )
      )}
      {showError && <ErrorNotice error={error} />}
      {!items || !visible ? (
        !error && <Loading what={loading} />
      ) : items.length === 0 ? (
        <Empty>{empty}</Empty>
      ) : (
        <>
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">{caption}</caption>
              {children(visible)}
            </table>
          </div>
          {paging && (
            <p className="hint">
              Showing {visible.length} of {paging.kind === 'server' ? paging.total : items.length}.
            </p>
          )}
          {paging?.kind === 'server' && paging.onMore && (
            <button type="button" onClick={paging.onMore}>
              {paging.moreLabel}
            </button>
          )}
          {paging?.kind === 'client' && shown < items.length && (
            <button type="button" onClick={() => setShown((count) => count + paging.pageSize)}>
              {paging.moreLabel}
            </button>
          )}
        </>
      )}
    </>
  );
}
