import type { Document } from 'bson';

import type { Catalog } from './catalog.js';
import { valuesAtPath } from './document-paths.js';
import { compileFilter } from './query-engine.js';

/** The earliest date a document's TTL field holds, as mongod reads it (arrays: the smallest date). */
function expiryBase(doc: Document, field: string): number | undefined {
  let earliest: number | undefined;
  for (const value of valuesAtPath(doc, field)) {
    if (value instanceof Date && (earliest === undefined || value.getTime() < earliest))
      earliest = value.getTime();
  }
  return earliest;
}

/** Deletes every document whose TTL index says it has expired; returns how many went. */
export function removeExpiredDocuments(catalog: Catalog, now = Date.now()): number {
  let removed = 0;
  for (const collection of catalog.allCollections()) {
    for (const spec of collection.ttlIndexes()) {
      const field = Object.keys(spec.key)[0] as string;
      const lifetimeMs = (spec.expireAfterSeconds as number) * 1000;
      const partial = spec.partialFilterExpression ? compileFilter(spec.partialFilterExpression) : undefined;
      for (const doc of collection.documents()) {
        if (partial && !partial.test(doc)) continue;
        const base = expiryBase(doc, field);
        if (base !== undefined && base + lifetimeMs <= now) {
          collection.remove(doc);
          removed += 1;
        }
      }
    }
  }
  return removed;
}
