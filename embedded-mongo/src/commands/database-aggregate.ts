import type { Document } from 'bson';

import { ErrorCode, MongoServerError } from '../errors.js';

/** Every stage name mongod 7.0 knows; any other is refused as unrecognized before anything else. */
const KNOWN_STAGES = new Set([
  '$addFields',
  '$bucket',
  '$bucketAuto',
  '$changeStream',
  '$changeStreamSplitLargeEvent',
  '$collStats',
  '$count',
  '$currentOp',
  '$densify',
  '$documents',
  '$facet',
  '$fill',
  '$geoNear',
  '$graphLookup',
  '$group',
  '$indexStats',
  '$limit',
  '$listCatalog',
  '$listLocalSessions',
  '$listSampledQueries',
  '$listSearchIndexes',
  '$listSessions',
  '$lookup',
  '$match',
  '$merge',
  '$out',
  '$planCacheStats',
  '$project',
  '$redact',
  '$replaceRoot',
  '$replaceWith',
  '$sample',
  '$search',
  '$searchMeta',
  '$set',
  '$setWindowFields',
  '$shardedDataDistribution',
  '$skip',
  '$sort',
  '$sortByCount',
  '$unionWith',
  '$unset',
  '$unwind',
]);

/** Collection-less stages mongod runs only against the admin database. */
const ADMIN_ONLY_STAGES = new Set(['$currentOp', '$listCatalog', '$shardedDataDistribution']);

/** Collection-less stages a standalone mongod has but the embedded server does not emulate. */
const UNEMULATED_STAGES = new Set(['$currentOp', '$listCatalog', '$listLocalSessions']);

/**
 * The checks of a database-level aggregate (`{aggregate: 1}`): its first stage must be one that needs no
 * collection. Only `$documents` is run; the other collection-less stages are refused as such.
 */
export function checkDatabaseAggregate(db: string, pipeline: Document[]): void {
  const first = pipeline[0];
  if (!first)
    throw new MongoServerError(
      ErrorCode.InvalidNamespace,
      '{aggregate: 1} is not valid for an empty pipeline.',
    );
  const name = Object.keys(first)[0] ?? '';
  if (name === '$documents') return;
  if (!KNOWN_STAGES.has(name))
    throw new MongoServerError(ErrorCode.Location40324, `Unrecognized pipeline stage name: '${name}'`);
  if (ADMIN_ONLY_STAGES.has(name) && db !== 'admin')
    throw new MongoServerError(
      ErrorCode.InvalidNamespace,
      `${name} must be run against the 'admin' database with {aggregate: 1}`,
    );
  if (UNEMULATED_STAGES.has(name))
    throw new MongoServerError(
      ErrorCode.CommandNotSupported,
      `${name} is not supported by the embedded server`,
    );
  throw new MongoServerError(
    ErrorCode.InvalidNamespace,
    `{aggregate: 1} is not valid for '${name}'; a collection is required.`,
  );
}
