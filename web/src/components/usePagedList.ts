import { useCallback, useMemo } from 'react';
import { useInfiniteQuery } from '@tanstack/react-query';
import { api, relative, type Page } from '../api';

/** A Graph list followed through `@odata.nextLink` as the person scrolls. */
export function usePagedList<T>(key: unknown[], firstUrl: string | null, headers?: Record<string, string>) {
  const query = useInfiniteQuery({
    queryKey: [...key, firstUrl],
    queryFn: ({ pageParam, signal }) => api<Page<T>>(pageParam ?? firstUrl!, { headers, signal }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => (last['@odata.nextLink'] ? relative(last['@odata.nextLink']) : undefined),
    enabled: firstUrl !== null,
  });
  const items = useMemo(() => query.data?.pages.flatMap((p) => p.value) ?? [], [query.data]);
  const { fetchNextPage } = query;
  const loadMore = useCallback(() => void fetchNextPage(), [fetchNextPage]);
  return { query, items, loadMore, hasMore: Boolean(query.hasNextPage), loadingMore: query.isFetchingNextPage, total: query.data?.pages[0]?.['@odata.count'] };
}
