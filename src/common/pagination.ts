import { ApiError } from './errors/api-error.js';

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** Opaque to clients: the sort key of the last row a page returned. Stable under inserts, unlike an offset. */
export function encodeCursor(key: readonly string[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string, length: number): string[] {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === length && key.every((part) => typeof part === 'string')) return key as string[];
  } catch {
    // falls through to the same answer as any other malformed cursor
  }
  throw ApiError.invalidRequest('cursor is not valid');
}

/** Builds a page from `limit + 1` fetched rows: the extra row only says that there is more. */
export function toPage<Row, Item>(rows: Row[], limit: number, sortKey: (row: Row) => string[], toItem: (row: Row) => Item): Page<Item> {
  const pageRows = rows.slice(0, limit);
  const last = pageRows.at(-1);
  return {
    items: pageRows.map(toItem),
    next_cursor: rows.length > limit && last !== undefined ? encodeCursor(sortKey(last)) : null,
  };
}
