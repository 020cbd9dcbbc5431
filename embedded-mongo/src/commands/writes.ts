import { BSON, type Document } from 'bson';

import { operationCollation, type Collation } from '../collation.js';
import type { Collection } from '../collection.js';
import { ErrorCode, fromQueryEngineError, MongoServerError } from '../errors.js';
import { nativePredicate, NeedsEngine } from '../fast-stages.js';
import { compileFilter, firstInSortOrder, projectOne, runFind } from '../query-engine.js';
import { applyUpdate, buildUpsert, validateUpdateSpec, type UpdateSpec } from '../update-engine.js';
import { collectionName, documentArray, optionalDocument } from './arguments.js';
import type { CommandContext, CommandHandler } from './context.js';
import { evaluateLet } from './let-variables.js';
import { assertNotView, viewWriteErrors } from './views.js';

interface WriteOutcome {
  n: number;
  writeErrors: Document[];
}

/** Runs each statement of a write command, stopping at the first error when `ordered` (the default). */
function runStatements<T>(
  statements: T[],
  ordered: boolean,
  run: (statement: T, index: number) => void,
): Document[] {
  const writeErrors: Document[] = [];
  for (const [index, statement] of statements.entries()) {
    try {
      run(statement, index);
    } catch (error) {
      writeErrors.push(fromQueryEngineError(error).toWriteError(index));
      if (ordered) break;
    }
  }
  return writeErrors;
}

function reply(outcome: WriteOutcome, extra: Document = {}): Document {
  const result: Document = { n: outcome.n, ...extra };
  if (outcome.writeErrors.length > 0) result.writeErrors = outcome.writeErrors;
  result.ok = 1;
  return result;
}

function insert(context: CommandContext, command: Document): Document {
  const name = collectionName(command);
  const documents = documentArray(command, 'documents');
  const onView = viewWriteErrors(context, name, documents.length, command.ordered !== false);
  if (onView) return reply({ n: 0, writeErrors: onView });
  const collection = context.catalog.ensureCollection(context.db, name);
  const validate = command.bypassDocumentValidation !== true;
  let n = 0;
  const writeErrors = runStatements(documents, command.ordered !== false, (doc) => {
    collection.insert(doc, validate);
    n += 1;
  });
  return reply({ n, writeErrors });
}

function isChanged(before: Document, after: Document): boolean {
  return !Buffer.from(BSON.serialize(before)).equals(BSON.serialize(after));
}

/** The collation a write statement runs with: its own `collation`, else the collection's default. */
function statementCollation(collection: Collection | undefined, statement: Document): Collation | undefined {
  return operationCollation(statement.collation, collection?.defaultCollation);
}

/** What a write's filter is tested with: the statement's collation and the command's `let` variables. */
interface FilterOptions {
  collation?: Collation;
  variables?: Document;
}

function filterOptions(collation: Collation | undefined, variables: Document | undefined): FilterOptions {
  return { ...(collation ? { collation } : {}), ...(variables ? { variables } : {}) };
}

/** Documents matching `filter`, the first one only unless `multi`. */
function matches(
  collection: Collection | undefined,
  filter: Document,
  multi: boolean,
  sort?: Document,
  options: FilterOptions = {},
): Document[] {
  if (!collection) return [];
  // Simple filters are tested natively (binary string comparison only); the engine takes the rest, and
  // over again when a document holds an array where the native test cannot follow.
  const native = options.collation ? undefined : nativePredicate(filter);
  if (native && sort && !multi && Object.keys(sort).length > 0) {
    try {
      const first = collection.firstInIndexOrder(filter, sort, 1, native);
      if (first) return first;
    } catch (error) {
      if (!(error instanceof NeedsEngine)) throw error;
    }
  }
  const candidates = collection.candidates(filter, options.collation);
  if (native) {
    try {
      return matchesAmong(candidates, native, filter, multi, sort, options);
    } catch (error) {
      if (!(error instanceof NeedsEngine)) throw error;
    }
  }
  const query = compileFilter(filter, options);
  return matchesAmong(candidates, (doc) => query.test(doc), filter, multi, sort, options);
}

function matchesAmong(
  candidates: Document[],
  test: (doc: Document) => boolean,
  filter: Document,
  multi: boolean,
  sort: Document | undefined,
  options: FilterOptions,
): Document[] {
  if (sort && Object.keys(sort).length > 0) {
    const first = multi ? undefined : firstInSortOrder(candidates, test, sort, options.collation?.compare);
    if (first) return first.doc ? [first.doc] : [];
    const sorted = runFind(candidates, filter, { sort, ...options });
    return multi ? sorted : sorted.slice(0, 1);
  }
  const found: Document[] = [];
  for (const doc of candidates) {
    if (!test(doc)) continue;
    found.push(doc);
    if (!multi) break;
  }
  return found;
}

/** What a pipeline-style update reads as `$$name`: the command's `let` and the statement's constants (`c`). */
function withConstants(
  variables: Document | undefined,
  spec: UpdateSpec,
  constants: Document | undefined,
): Document | undefined {
  if (!constants) return variables;
  if (!Array.isArray(spec))
    throw new MongoServerError(
      ErrorCode.Location51198,
      'Constant values may only be specified for pipeline updates',
    );
  return { ...variables, ...constants };
}

function update(context: CommandContext, command: Document): Document {
  const name = collectionName(command);
  const statements = documentArray(command, 'updates');
  const onView = viewWriteErrors(context, name, statements.length, command.ordered !== false);
  if (onView) return reply({ n: 0, writeErrors: onView }, { nModified: 0 });
  const validate = command.bypassDocumentValidation !== true;
  const variables = evaluateLet(optionalDocument(command, 'let'));
  let n = 0;
  let nModified = 0;
  const upserted: Document[] = [];
  const writeErrors = runStatements(statements, command.ordered !== false, (statement, index) => {
    const filter = optionalDocument(statement, 'q') ?? {};
    const spec = validateUpdateSpec(statement.u);
    const arrayFilters = statement.arrayFilters as Document[] | undefined;
    const pipelineVariables = withConstants(variables, spec, optionalDocument(statement, 'c'));
    const multi = statement.multi === true;
    if (
      multi &&
      !Array.isArray(spec) &&
      !Object.keys(spec).some((key) => key.startsWith('$')) &&
      Object.keys(spec).length > 0
    ) {
      throw new MongoServerError(
        ErrorCode.FailedToParse,
        'multi update is not supported for replacement-style update',
      );
    }
    const collection = context.catalog.collection(context.db, name);
    const collation = statementCollation(collection, statement);
    const found = matches(collection, filter, multi, undefined, filterOptions(collation, variables));
    if (found.length === 0) {
      if (statement.upsert === true) {
        const doc = context.catalog
          .ensureCollection(context.db, name)
          .insert(buildUpsert(filter, spec, arrayFilters, pipelineVariables), validate);
        n += 1;
        upserted.push({ index, _id: doc._id });
      }
      return;
    }
    for (const current of found) {
      const next = applyUpdate(current, spec, {
        inserting: false,
        query: filter,
        ...(arrayFilters ? { arrayFilters } : {}),
        ...(collation ? { collation } : {}),
        ...(pipelineVariables ? { variables: pipelineVariables } : {}),
      });
      n += 1;
      if (!isChanged(current, next)) continue;
      (collection as Collection).replace(current, next, validate);
      nModified += 1;
    }
  });
  const extra: Document = { nModified };
  if (upserted.length > 0) extra.upserted = upserted;
  return reply({ n, writeErrors }, extra);
}

function remove(context: CommandContext, command: Document): Document {
  const name = collectionName(command);
  const statements = documentArray(command, 'deletes');
  const onView = viewWriteErrors(context, name, statements.length, command.ordered !== false);
  if (onView) return reply({ n: 0, writeErrors: onView });
  const variables = evaluateLet(optionalDocument(command, 'let'));
  let n = 0;
  const writeErrors = runStatements(statements, command.ordered !== false, (statement) => {
    const filter = optionalDocument(statement, 'q') ?? {};
    if (statement.limit !== 0 && statement.limit !== 1) {
      throw new MongoServerError(ErrorCode.FailedToParse, 'The limit field in delete objects must be 0 or 1');
    }
    const collection = context.catalog.collection(context.db, name);
    const collation = statementCollation(collection, statement);
    const selected = matches(
      collection,
      filter,
      statement.limit === 0,
      undefined,
      filterOptions(collation, variables),
    );
    for (const doc of selected) {
      collection?.remove(doc);
      n += 1;
    }
  });
  return reply({ n, writeErrors });
}

function findAndModify(context: CommandContext, command: Document): Document {
  const name = collectionName(command);
  const filter = optionalDocument(command, 'query') ?? {};
  const sort = optionalDocument(command, 'sort');
  const fields = optionalDocument(command, 'fields');
  const removing = command.remove === true;
  const returnNew = command.new === true;
  if (removing && command.update !== undefined)
    throw new MongoServerError(ErrorCode.FailedToParse, 'Cannot specify both an update and remove=true');
  if (!removing && command.update === undefined)
    throw new MongoServerError(ErrorCode.FailedToParse, 'Either an update or remove=true must be specified');
  if (removing && returnNew)
    throw new MongoServerError(
      ErrorCode.FailedToParse,
      "Cannot specify both new=true and remove=true; 'remove' always returns the deleted document",
    );
  if (removing && command.upsert === true)
    throw new MongoServerError(ErrorCode.FailedToParse, 'Cannot specify both upsert=true and remove=true');

  assertNotView(context, name);
  const validate = command.bypassDocumentValidation !== true;
  const variables = evaluateLet(optionalDocument(command, 'let'));
  const collection = context.catalog.collection(context.db, name);
  const collation = statementCollation(collection, command);
  const [current] = matches(collection, filter, false, sort, filterOptions(collation, variables));
  if (removing) {
    if (current) collection?.remove(current);
    return {
      lastErrorObject: { n: current ? 1 : 0 },
      value: current ? projectOne(current, fields) : null,
      ok: 1,
    };
  }
  const spec = validateUpdateSpec(command.update);
  const arrayFilters = command.arrayFilters as Document[] | undefined;
  if (!current) {
    if (command.upsert !== true)
      return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
    const doc = context.catalog
      .ensureCollection(context.db, name)
      .insert(buildUpsert(filter, spec, arrayFilters, variables), validate);
    return {
      lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id },
      value: returnNew ? projectOne(doc, fields) : null,
      ok: 1,
    };
  }
  const next = applyUpdate(current, spec, {
    inserting: false,
    query: filter,
    ...(arrayFilters ? { arrayFilters } : {}),
    ...(collation ? { collation } : {}),
    ...(variables ? { variables } : {}),
  });
  if (isChanged(current, next)) (collection as Collection).replace(current, next, validate);
  return {
    lastErrorObject: { n: 1, updatedExisting: true },
    value: projectOne(returnNew ? next : current, fields),
    ok: 1,
  };
}

export const writeCommands: Record<string, CommandHandler> = {
  insert,
  update,
  delete: remove,
  findAndModify,
  findandmodify: findAndModify,
};
