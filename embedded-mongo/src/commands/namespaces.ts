import { BSON, type Document } from 'bson';

import { numericKind, toJsNumber } from '../bson-numbers.js';
import { validateCollectionName } from '../catalog.js';
import { parseCollation } from '../collation.js';
import type { Collection } from '../collection.js';
import { checkValidationOptions } from '../document-validation.js';
import { ErrorCode, MongoServerError } from '../errors.js';
import { runFind, runPipeline } from '../query-engine.js';
import { checkViewPipeline, viewOptions, type ViewDefinition } from '../views.js';
import { collectionName, documentArray, optionalDocument } from './arguments.js';
import { GENERIC_ARGUMENTS } from './command-field-table.js';
import type { CommandContext, CommandHandler } from './context.js';
import { viewWriteError } from './views.js';

const UNSUPPORTED_COLLECTION_OPTIONS = [
  'capped',
  'timeseries',
  'clusteredIndex',
  'changeStreamPreAndPostImages',
  'encryptedFields',
];

const VALIDATION_OPTIONS = ['validator', 'validationLevel', 'validationAction'];
const VIEW_OPTIONS = ['viewOn', 'pipeline'];

function requireCollection(context: CommandContext, name: string): Collection {
  if (context.catalog.view(context.db, name)) throw viewWriteError(context, name);
  const collection = context.catalog.collection(context.db, name);
  if (!collection)
    throw new MongoServerError(ErrorCode.NamespaceNotFound, `ns does not exist: ${context.db}.${name}`);
  return collection;
}

function create(context: CommandContext, command: Document): Document {
  const name = collectionName(command);
  const options: Document = {};
  for (const [key, value] of Object.entries(command).slice(1)) {
    // Generic arguments (maxTimeMS, readConcern, lsid, ...) belong to the command, not to the collection.
    if (Object.hasOwn(GENERIC_ARGUMENTS, key)) continue;
    if (UNSUPPORTED_COLLECTION_OPTIONS.includes(key)) {
      throw new MongoServerError(
        ErrorCode.CommandNotSupported,
        `collection option '${key}' is not supported by the embedded server`,
      );
    }
    if (key === 'collation') {
      // The default collation is kept as mongod reports it, every field filled in; "simple" means none.
      const collation = parseCollation(value);
      if (collation) options[key] = { ...collation.spec };
      continue;
    }
    options[key] = value;
  }
  if (VIEW_OPTIONS.some((key) => key in options)) return createView(context, name, options);
  checkValidationOptions('create', options);
  context.catalog.createCollection(context.db, name, options);
  return { ok: 1 };
}

function checkViewOn(command: string, viewOn: unknown): string {
  if (typeof viewOn !== 'string')
    throw new MongoServerError(
      ErrorCode.TypeMismatch,
      `BSON field '${command}.viewOn' is the wrong type, expected type 'string'`,
    );
  if (viewOn.length === 0) throw new MongoServerError(ErrorCode.BadValue, "'viewOn' cannot be empty");
  return viewOn;
}

/** A pipeline the query engine can run: unknown stages and operators are refused as mongod refuses them. */
function checkPipelineRuns(pipeline: Document[]): void {
  runPipeline([{}], pipeline, { resolve: () => [] }, { copyInput: true });
}

function createView(context: CommandContext, name: string, options: Document): Document {
  if (options.viewOn === undefined)
    throw new MongoServerError(ErrorCode.InvalidOptions, "'pipeline' requires 'viewOn' to also be specified");
  const viewOn = checkViewOn('create', options.viewOn);
  const pipeline = checkViewPipeline(options.pipeline ?? [], 'create');
  const other = Object.keys(options).find((key) => !VIEW_OPTIONS.includes(key) && key !== 'collation');
  if (other) throw new MongoServerError(ErrorCode.InvalidOptions, `option not supported on a view: ${other}`);
  // A view's own default collation would govern every read of it; refused until emulated, never ignored.
  if (options.collation !== undefined)
    throw new MongoServerError(
      ErrorCode.CommandNotSupported,
      'a view with a non-simple collation is not supported by the embedded server',
    );
  checkPipelineRuns(pipeline);
  context.catalog.createView(context.db, name, viewOn, pipeline);
  return { ok: 1 };
}

function drop(context: CommandContext, command: Document): Document {
  const name = collectionName(command);
  if (context.catalog.view(context.db, name)) {
    context.catalog.dropCollection(context.db, name);
    return { ns: `${context.db}.${name}`, ok: 1 };
  }
  const collection = context.catalog.collection(context.db, name);
  const nIndexesWas = collection?.indexSpecs().length ?? 0;
  context.catalog.dropCollection(context.db, name);
  return { nIndexesWas, ns: `${context.db}.${name}`, ok: 1 };
}

function dropDatabase(context: CommandContext): Document {
  context.catalog.dropDatabase(context.db);
  return { dropped: context.db, ok: 1 };
}

function describeCollection(collection: Collection, nameOnly: boolean): Document {
  if (nameOnly) return { name: collection.name, type: 'collection' };
  return {
    name: collection.name,
    type: 'collection',
    options: collection.options,
    info: { readOnly: false, uuid: collection.uuid },
    idIndex: collection.indexSpecs().find((spec) => spec.name === '_id_'),
  };
}

function describeView(view: ViewDefinition, nameOnly: boolean): Document {
  if (nameOnly) return { name: view.name, type: 'view' };
  return { name: view.name, type: 'view', options: viewOptions(view), info: { readOnly: true } };
}

function listCollections(context: CommandContext, command: Document): Document {
  const nameOnly = command.nameOnly === true;
  const described = [
    ...context.catalog.collections(context.db).map((collection) => describeCollection(collection, nameOnly)),
    ...context.catalog.views(context.db).map((view) => describeView(view, nameOnly)),
  ];
  const filtered = runFind(described, optionalDocument(command, 'filter'));
  const cursorOptions = optionalDocument(command, 'cursor');
  return {
    cursor: context.cursors.open(
      `${context.db}.$cmd.listCollections`,
      filtered,
      cursorOptions?.batchSize as number | undefined,
    ),
    ok: 1,
  };
}

function listDatabases(context: CommandContext, command: Document): Document {
  let totalSize = 0;
  const databases = context.catalog.databaseNames().map((name) => {
    const sizeOnDisk = context.catalog
      .collections(name)
      .reduce(
        (sum, collection) =>
          sum + collection.documents().reduce((bytes, doc) => bytes + BSON.calculateObjectSize(doc), 0),
        0,
      );
    totalSize += sizeOnDisk;
    return { name, sizeOnDisk, empty: sizeOnDisk === 0 };
  });
  const filtered = runFind(databases, optionalDocument(command, 'filter'));
  if (command.nameOnly === true) return { databases: filtered.map(({ name }) => ({ name })), ok: 1 };
  return { databases: filtered, totalSize, totalSizeMb: Math.round(totalSize / 1024 / 1024), ok: 1 };
}

function createIndexes(context: CommandContext, command: Document): Document {
  const name = collectionName(command);
  validateCollectionName(context.db, name);
  const specs = documentArray(command, 'indexes');
  if (specs.length === 0)
    throw new MongoServerError(ErrorCode.BadValue, 'Must specify at least one index to create');
  if (context.catalog.view(context.db, name))
    throw new MongoServerError(
      ErrorCode.CommandNotSupportedOnView,
      `Cannot create indexes on a view: ${context.db}.${name}`,
    );
  for (const spec of specs) if (spec.collation !== undefined) parseCollation(spec.collation);
  const existed = context.catalog.collection(context.db, name) !== undefined;
  const collection = context.catalog.ensureCollection(context.db, name);
  const numIndexesBefore = collection.indexSpecs().length;
  let created = 0;
  for (const spec of specs) if (collection.createIndex(spec)) created += 1;
  const reply: Document = {
    numIndexesBefore,
    numIndexesAfter: collection.indexSpecs().length,
    createdCollectionAutomatically: !existed,
    ok: 1,
  };
  if (created === 0) reply.note = 'all indexes already exist';
  return reply;
}

function listIndexes(context: CommandContext, command: Document): Document {
  const name = collectionName(command);
  const collection = requireCollection(context, name);
  const cursorOptions = optionalDocument(command, 'cursor');
  const specs = collection.indexSpecs().map((spec) => ({ ...spec }));
  return {
    cursor: context.cursors.open(
      `${context.db}.${name}`,
      specs,
      cursorOptions?.batchSize as number | undefined,
    ),
    ok: 1,
  };
}

function dropIndexes(context: CommandContext, command: Document): Document {
  const name = collectionName(command);
  const collection = requireCollection(context, name);
  const nIndexesWas = collection.indexSpecs().length;
  const target = command.index as unknown;
  if (target === '*') collection.dropAllIndexes();
  else if (Array.isArray(target)) for (const indexName of target) collection.dropIndex(String(indexName));
  else if (typeof target === 'string' || (target !== null && typeof target === 'object'))
    collection.dropIndex(target as string | Document);
  else
    throw new MongoServerError(
      ErrorCode.TypeMismatch,
      "BSON field 'dropIndexes.index' is missing or of the wrong type",
    );
  return { nIndexesWas, ok: 1 };
}

const COLL_MOD_FIELDS = new Set(['collMod', 'index', ...VALIDATION_OPTIONS, ...VIEW_OPTIONS]);

/** collMod of a view: a new `viewOn` and/or `pipeline` (the other is kept); nothing else applies. */
function modifyView(context: CommandContext, view: ViewDefinition, command: Document): Document {
  const refused = ['index', ...VALIDATION_OPTIONS].find((key) => command[key] !== undefined);
  if (refused)
    throw new MongoServerError(ErrorCode.InvalidOptions, `option not supported on a view: ${refused}`);
  const viewOn = command.viewOn === undefined ? view.viewOn : checkViewOn('collMod', command.viewOn);
  const pipeline =
    command.pipeline === undefined ? view.pipeline : checkViewPipeline(command.pipeline, 'collMod');
  checkPipelineRuns(pipeline);
  context.catalog.modifyOptions(context.db, view.name, { viewOn, pipeline });
  return { ok: 1 };
}

/**
 * collMod: a view's definition, a collection's validation options, or the TTL change of an index
 * (`index: {name | keyPattern, expireAfterSeconds}`).
 */
function collMod(context: CommandContext, command: Document): Document {
  const name = collectionName(command);
  const unsupported = Object.keys(command).filter(
    (key) => !COLL_MOD_FIELDS.has(key) && !Object.hasOwn(GENERIC_ARGUMENTS, key),
  );
  if (unsupported.length > 0)
    throw new MongoServerError(
      ErrorCode.InvalidOptions,
      `collMod option ${unsupported.join(', ')} is not supported by the embedded server`,
    );
  const view = context.catalog.view(context.db, name);
  if (view) return modifyView(context, view, command);
  const collection = requireCollection(context, name);
  const viewOnly = ['pipeline', 'viewOn'].find((key) => command[key] !== undefined);
  if (viewOnly)
    throw new MongoServerError(ErrorCode.InvalidOptions, `option only supported on a view: ${viewOnly}`);
  const validation: Document = {};
  for (const key of VALIDATION_OPTIONS) if (command[key] !== undefined) validation[key] = command[key];
  checkValidationOptions('collMod', validation);
  const reply: Document = {};
  const index = optionalDocument(command, 'index');
  if (index) {
    const target = (index.name as string | undefined) ?? (index.keyPattern as Document | undefined);
    if (target === undefined)
      throw new MongoServerError(ErrorCode.InvalidOptions, 'collMod.index needs a name or a keyPattern');
    if (!numericKind(index.expireAfterSeconds))
      throw new MongoServerError(
        ErrorCode.InvalidOptions,
        'collMod.index: only expireAfterSeconds can be changed by the embedded server',
      );
    const seconds = toJsNumber(index.expireAfterSeconds);
    const old = collection.setExpireAfterSeconds(target, seconds);
    reply.expireAfterSeconds_old = old;
    reply.expireAfterSeconds_new = seconds;
  }
  if (Object.keys(validation).length > 0)
    context.catalog.modifyOptions(context.db, name, { ...collection.options, ...validation });
  return { ...reply, ok: 1 };
}

export const namespaceCommands: Record<string, CommandHandler> = {
  collMod,
  create,
  drop,
  dropDatabase,
  listCollections,
  listDatabases,
  createIndexes,
  listIndexes,
  dropIndexes,
};
