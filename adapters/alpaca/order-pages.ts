// Alpaca's order listing, page by page. `GET /v2/orders` returns at most 500 orders, newest first; it pages back in
// submission time: each next page ends just after the oldest order of the one before (`until` is exclusive, and
// the SDK keeps milliseconds), so pages overlap and nothing at a page boundary is missed; orders seen twice count
// once. Used by the Alpaca venue (open orders, a session's orders back to its newest) and by the lost-journal
// chaos scenario against its model broker and the Alpaca fake, so both read the broker the way production does.

/** Orders per listing page (Alpaca's maximum), and the pages of one listing read at most. */
export const ORDER_PAGE_LIMIT = 500;
export const ORDER_PAGES_MAX = 100;

export interface ListedOrder {
  readonly id: string;
  /** Submission time in milliseconds, NaN when absent. */
  readonly submittedMs: number;
}

/**
 * Pages newest first until `enough` says so or the listing ends. `fetchPage(until)` lists one page of at most
 * `pageLimit` orders submitted before `until` (an RFC 3339 time; none for the newest page). `complete` is false
 * when `pagesMax` pages did not reach the end.
 */
export async function pageOrders<V extends ListedOrder>(
  fetchPage: (until: string | undefined) => Promise<readonly V[]>,
  enough: (page: readonly V[]) => boolean,
  limits: { readonly pageLimit: number; readonly pagesMax: number } = { pageLimit: ORDER_PAGE_LIMIT, pagesMax: ORDER_PAGES_MAX },
): Promise<{ views: V[]; complete: boolean }> {
  const seen = new Map<string, V>();
  let until: string | undefined;
  for (let page = 1; page <= limits.pagesMax; page += 1) {
    const views = await fetchPage(until);
    let added = 0;
    let oldestMs = Infinity;
    for (const view of views) {
      if (!seen.has(view.id)) {
        seen.set(view.id, view);
        added += 1;
      }
      if (view.submittedMs < oldestMs) oldestMs = view.submittedMs;
    }
    // A short page is the last; a page of nothing new (more orders in one millisecond than a page holds) too.
    if (views.length < limits.pageLimit || added === 0 || !Number.isFinite(oldestMs) || enough(views)) return { views: [...seen.values()], complete: true };
    // det-ok: a given instant printed in UTC (toISOString), neither the current time nor the local zone.
    // eslint-disable-next-line no-restricted-syntax
    until = new Date(oldestMs + 1).toISOString();
  }
  return { views: [...seen.values()], complete: false };
}
