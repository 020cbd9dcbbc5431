import type { TPagination } from '@gen3d/shared';

/** Which page of a list a client asked for (1-based) and how many items a page holds. */
export interface PageRequest {
  page: number;
  limit: number;
}

/** The query narrowed to the requested page (it should be sorted first). */
export function onPage<TQuery extends { skip(count: number): TQuery; limit(count: number): TQuery }>(
  query: TQuery,
  { page, limit }: PageRequest,
): TQuery {
  return query.skip((page - 1) * limit).limit(limit);
}

/** What a counted list tells its clients about the page they got and how many there are. */
export function paginationOf({ page, limit }: PageRequest, total: number): TPagination {
  return { page, limit, total, pages: Math.ceil(total / limit) };
}
