/**
 * The fields mongod 7.0's IDL declares for each command the embedded server implements, its generic
 * arguments and the nested documents (update/delete statements, cursor, collation, writeConcern).
 * Reference: src/mongo/db/query/find_command.idl, ops/write_ops.idl, pipeline/aggregate_command.idl,
 * query/count_command.idl, query/distinct_command.idl, query/getmore_command.idl, catalog/*.idl,
 * write_concern_options.idl, generic_argument.idl. The checks are in command-fields.ts.
 */

export type FieldType =
  /** BSON object. */
  | 'object'
  | 'array'
  | 'string'
  /** Only `true`/`false`. */
  | 'bool'
  /** A boolean or a number (IDL `safeBool`). */
  | 'safeBool'
  /** Only a boolean, with OptionalBool's own message. */
  | 'optionalBool'
  /** Any number (IDL `safeInt64`/`safeInt`). */
  | 'number'
  /** A 32-bit integer only (IDL `int`). */
  | 'int'
  | 'uuid'
  /** An index name or key pattern. */
  | 'indexHint'
  | 'maxTimeMS'
  /** count's `limit`: any number, negative ones counted by their absolute value. */
  | 'countLimit'
  | 'readConcern'
  | 'writeConcern'
  | 'any';

export interface FieldSpec {
  type: FieldType;
  required?: boolean;
  /** IDL `validator: {gte: n}`. */
  gte?: number;
  /** The document holds a nested struct whose fields are checked too. */
  struct?: StructSpec;
  /** The array holds documents of this struct. */
  items?: StructSpec;
  /** mongod honours it but the embedded server does not: refused (115) unless absent or false. */
  unemulated?: boolean;
}

export interface StructSpec {
  fields: Record<string, FieldSpec>;
  /** Strict structs refuse fields they do not declare (40415). */
  strict: boolean;
  /** The names of the required fields, listed once. */
  required: string[];
}

const field = (type: FieldType, extra: Omit<FieldSpec, 'type'> = {}): FieldSpec => ({ type, ...extra });
const unemulated = (type: FieldType): FieldSpec => ({ type, unemulated: true });
const struct = (fields: Record<string, FieldSpec>, strict = true): StructSpec => ({
  fields,
  strict,
  required: Object.keys(fields).filter((name) => fields[name]?.required === true),
});

const CURSOR_OPTIONS = struct({ batchSize: field('number', { gte: 0 }) });

// The collation document is checked by the collation parser (collation.ts), as mongod's collator factory
// parses it after the command: its errors name `collation.<field>`, not the command's path.
const collation = field('object');
const hint = field('indexHint');
const letVariables = field('object');

/** WriteCommandRequestBase: the fields insert, update and delete share. */
const WRITE_COMMAND_BASE: Record<string, FieldSpec> = {
  bypassDocumentValidation: field('safeBool'),
  ordered: field('bool'),
  stmtId: field('int'),
  stmtIds: field('array'),
  isTimeseriesNamespace: unemulated('optionalBool'),
  collectionUUID: unemulated('uuid'),
  encryptionInformation: unemulated('object'),
  originalQuery: unemulated('object'),
  originalCollation: unemulated('object'),
};

const UPDATE_STATEMENT = struct({
  q: field('object', { required: true }),
  u: field('any', { required: true }),
  c: field('object'),
  arrayFilters: field('array'),
  hint,
  multi: field('bool'),
  upsert: field('bool'),
  upsertSupplied: unemulated('optionalBool'),
  collation,
  sampleId: field('uuid'),
  $_allowShardKeyUpdatesWithoutFullShardKeyInQuery: field('optionalBool'),
});

const DELETE_STATEMENT = struct({
  q: field('object', { required: true }),
  limit: field('any', { required: true }),
  hint,
  collation,
  sampleId: field('uuid'),
});

const FIND = struct({
  filter: field('object'),
  projection: field('object'),
  sort: field('object'),
  hint,
  collation,
  skip: field('number', { gte: 0 }),
  limit: field('number', { gte: 0 }),
  batchSize: field('number', { gte: 0 }),
  ntoreturn: field('number', { gte: 0 }),
  singleBatch: field('optionalBool'),
  allowDiskUse: field('optionalBool'),
  min: unemulated('object'),
  max: unemulated('object'),
  returnKey: unemulated('optionalBool'),
  showRecordId: unemulated('optionalBool'),
  $queryOptions: field('object'),
  tailable: field('optionalBool'),
  oplogReplay: field('any'),
  noCursorTimeout: field('optionalBool'),
  awaitData: field('optionalBool'),
  allowPartialResults: field('optionalBool'),
  let: letVariables,
  options: field('object'),
  term: field('number'),
  readOnce: field('optionalBool'),
  allowSpeculativeMajorityRead: field('optionalBool'),
  $_requestResumeToken: unemulated('optionalBool'),
  $_resumeAfter: unemulated('object'),
  runtimeConstants: unemulated('object'),
  collectionUUID: unemulated('uuid'),
});

const AGGREGATE = struct({
  pipeline: field('array', { required: true }),
  explain: field('optionalBool'),
  allowDiskUse: field('optionalBool'),
  cursor: field('object', { struct: CURSOR_OPTIONS }),
  bypassDocumentValidation: field('optionalBool'),
  $queryOptions: field('object'),
  hint,
  needsMerge: unemulated('optionalBool'),
  fromMongos: field('optionalBool'),
  fromRouter: field('optionalBool'),
  $_requestReshardingResumeToken: unemulated('optionalBool'),
  collation,
  let: letVariables,
  exchange: unemulated('object'),
  runtimeConstants: unemulated('object'),
  isMapReduceCommand: field('optionalBool'),
  collectionUUID: unemulated('uuid'),
  passthroughToShard: unemulated('object'),
  encryptionInformation: unemulated('object'),
  $_generateV2ResumeTokens: field('optionalBool'),
  $_isClusterQueryWithoutShardKeyCmd: field('optionalBool'),
});

const FIND_AND_MODIFY = struct({
  query: field('object'),
  fields: field('object'),
  sort: field('object'),
  hint,
  collation,
  arrayFilters: field('array'),
  remove: field('safeBool'),
  update: field('any'),
  new: field('safeBool'),
  upsert: field('safeBool'),
  bypassDocumentValidation: field('safeBool'),
  let: letVariables,
  runtimeConstants: unemulated('object'),
  stmtId: field('int'),
  encryptionInformation: unemulated('object'),
  sampleId: field('uuid'),
  isTimeseriesNamespace: unemulated('optionalBool'),
  $_allowShardKeyUpdatesWithoutFullShardKeyInQuery: field('optionalBool'),
});

const HELLO = struct(
  {
    forShell: field('safeBool'),
    hostInfo: field('string'),
    internalClient: field('object'),
    client: field('object'),
    topologyVersion: field('object'),
    maxAwaitTimeMS: field('number'),
    helloOk: field('safeBool'),
    compression: field('array'),
    saslSupportedMechs: field('string'),
    speculativeAuthenticate: field('object'),
    loadBalanced: field('safeBool'),
    // Not strict: drivers add handshake fields newer servers read (the Node driver's `backpressure`).
  },
  false,
);

/**
 * Each command's own fields, by the name mongod parses it under. Commands that are not IDL-strict in
 * mongod (ping, buildInfo, getParameter, whatsmyuri, connectionStatus) take any field and are absent.
 */
export const COMMAND_FIELDS: Record<string, StructSpec> = {
  find: FIND,
  aggregate: AGGREGATE,
  count: struct({
    query: field('object'),
    limit: field('countLimit'),
    skip: field('number', { gte: 0 }),
    hint,
    collation,
    $queryOptions: field('object'),
    fields: field('object'),
    mirrored: field('optionalBool'),
    sampleId: field('uuid'),
    encryptionInformation: unemulated('object'),
  }),
  distinct: struct({
    key: field('string', { required: true }),
    query: field('object'),
    collation,
    mirrored: field('optionalBool'),
    sampleId: field('uuid'),
  }),
  getMore: struct({
    collection: field('string', { required: true }),
    batchSize: field('number', { gte: 0 }),
    term: field('number'),
    lastKnownCommittedOpTime: field('object'),
  }),
  killCursors: struct({ cursors: field('array', { required: true }) }),
  insert: struct({ ...WRITE_COMMAND_BASE, documents: field('array', { required: true }) }),
  update: struct({
    ...WRITE_COMMAND_BASE,
    updates: field('array', { required: true, items: UPDATE_STATEMENT }),
    let: letVariables,
    runtimeConstants: unemulated('object'),
  }),
  delete: struct({
    ...WRITE_COMMAND_BASE,
    deletes: field('array', { required: true, items: DELETE_STATEMENT }),
    let: letVariables,
    runtimeConstants: unemulated('object'),
  }),
  findAndModify: FIND_AND_MODIFY,
  create: struct({
    capped: field('safeBool'),
    autoIndexId: field('safeBool'),
    idIndex: field('object'),
    size: field('number'),
    max: field('number'),
    storageEngine: field('object'),
    validator: field('object'),
    validationLevel: field('string'),
    validationAction: field('string'),
    indexOptionDefaults: field('object'),
    viewOn: field('string'),
    pipeline: field('array'),
    collation,
    changeStreamPreAndPostImages: field('object'),
    timeseries: field('object'),
    clusteredIndex: field('any'),
    expireAfterSeconds: field('number'),
    encryptedFields: field('object'),
    temp: field('safeBool'),
    flags: field('number'),
  }),
  drop: struct({ collectionUUID: unemulated('uuid') }),
  dropDatabase: struct({}),
  listCollections: struct({
    cursor: field('object', { struct: CURSOR_OPTIONS }),
    filter: field('object'),
    nameOnly: field('optionalBool'),
    authorizedCollections: field('optionalBool'),
    includePendingDrops: field('optionalBool'),
  }),
  listDatabases: struct({
    filter: field('object'),
    nameOnly: field('optionalBool'),
    authorizedDatabases: field('optionalBool'),
  }),
  createIndexes: struct({
    indexes: field('array', { required: true }),
    commitQuorum: field('any'),
    ignoreUnknownIndexOptions: field('safeBool'),
    isTimeseriesNamespace: unemulated('optionalBool'),
    collectionUUID: unemulated('uuid'),
  }),
  listIndexes: struct({
    cursor: field('object', { struct: CURSOR_OPTIONS }),
    includeBuildUUIDs: field('safeBool'),
    includeIndexBuildInfo: field('safeBool'),
    isTimeseriesNamespace: unemulated('optionalBool'),
    collectionUUID: unemulated('uuid'),
  }),
  dropIndexes: struct({
    index: field('any', { required: true }),
    isTimeseriesNamespace: unemulated('optionalBool'),
    collectionUUID: unemulated('uuid'),
  }),
  collMod: struct({
    index: field('object'),
    validator: field('object'),
    validationLevel: field('string'),
    validationAction: field('string'),
    viewOn: field('string'),
    pipeline: field('array'),
    recordPreImages: field('safeBool'),
    changeStreamPreAndPostImages: field('object'),
    expireAfterSeconds: field('any'),
    timeseries: field('object'),
    cappedSize: field('number'),
    cappedMax: field('number'),
    isTimeseriesNamespace: unemulated('optionalBool'),
    collectionUUID: unemulated('uuid'),
  }),
  endSessions: struct({}),
  hello: HELLO,
};

/** The name mongod parses a command under, for the spellings it also answers to. */
export const CANONICAL_NAMES: Record<string, string> = {
  findandmodify: 'findAndModify',
  isMaster: 'hello',
  ismaster: 'hello',
};

/** Generic arguments (generic_argument.idl) every command accepts besides its own fields. */
export const GENERIC_ARGUMENTS: Record<string, FieldSpec> = {
  apiVersion: field('string'),
  apiStrict: field('bool'),
  apiDeprecationErrors: field('bool'),
  $db: field('string'),
  maxTimeMS: field('maxTimeMS'),
  readConcern: field('readConcern'),
  writeConcern: field('writeConcern'),
  lsid: field('object'),
  clientOperationKey: field('uuid'),
  txnNumber: field('any'),
  autocommit: field('any'),
  startTransaction: field('any'),
  stmtId: field('any'),
  comment: field('any'),
  $readPreference: field('object'),
  $clusterTime: field('object'),
  $audit: field('any'),
  $client: field('any'),
  $configServerState: field('any'),
  allowImplicitCollectionCreation: field('any'),
  $oplogQueryData: field('any'),
  $queryOptions: field('any'),
  $replData: field('any'),
  databaseVersion: field('any'),
  help: field('any'),
  shardVersion: field('any'),
  tracking_info: field('any'),
  coordinator: field('any'),
  maxTimeMSOpOnly: field('any'),
  $configTime: field('any'),
  $topologyTime: field('any'),
  txnRetryCounter: field('any'),
  mayBypassWriteBlocking: field('any'),
};

export const WRITE_CONCERN = struct({
  w: field('any'),
  j: field('safeBool'),
  wtimeout: field('number'),
  fsync: field('safeBool'),
  wElectionId: field('any'),
  wOpTime: field('any'),
  getLastError: field('any'),
  provenance: field('string'),
});
