import type { Document } from 'bson';

import { Catalog } from '../catalog.js';
import { ErrorCode, MongoServerError } from '../errors.js';
import type { CommandContext } from './context.js';

/**
 * `$out`: replaces the target collection's documents with the results, keeping its indexes. The
 * results are first loaded into a scratch catalog so a unique-index violation leaves the target as it was.
 */
export function writePipelineOutput(context: CommandContext, output: unknown, results: Document[]): void {
  const target =
    typeof output === 'string'
      ? { db: context.db, coll: output }
      : output !== null && typeof output === 'object'
        ? { db: String((output as Document).db ?? context.db), coll: String((output as Document).coll) }
        : undefined;
  if (!target)
    throw new MongoServerError(ErrorCode.FailedToParse, '$out only supports a string or object argument');
  const existing = context.catalog.collection(target.db, target.coll);
  const indexSpecs = existing?.indexSpecs().filter((spec) => spec.name !== '_id_') ?? [];

  const scratch = new Catalog().createCollection(target.db, target.coll, {});
  for (const spec of indexSpecs) scratch.createIndex(spec);
  const documents = results.map((doc) => scratch.insert(doc));

  context.catalog.dropCollection(target.db, target.coll);
  const collection = context.catalog.createCollection(target.db, target.coll, existing?.options ?? {});
  for (const spec of indexSpecs) collection.createIndex(spec);
  for (const doc of documents) collection.insert(doc);
}
