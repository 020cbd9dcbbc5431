/**
 * MongoDB server error codes the embedded server answers with. Names and numbers follow
 * mongo/base/error_codes.yml so drivers and mongoose recognise them.
 */
export const ErrorCode = {
  BadValue: 2,
  FailedToParse: 9,
  TypeMismatch: 14,
  IllegalOperation: 20,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  PathNotViable: 28,
  ConflictingUpdateOperators: 40,
  CursorNotFound: 43,
  NamespaceExists: 48,
  DollarPrefixedFieldName: 52,
  InvalidIdField: 53,
  EmptyFieldName: 56,
  CommandNotFound: 59,
  ImmutableField: 66,
  InvalidOptions: 72,
  CannotCreateIndex: 67,
  IndexAlreadyExists: 68,
  InvalidNamespace: 73,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  DocumentValidationFailure: 121,
  GraphContainsCycle: 140,
  ViewDepthLimitExceeded: 149,
  CommandNotSupported: 115,
  IncompatibleCollationVersion: 161,
  CommandNotSupportedOnView: 166,
  OptionNotSupportedOnView: 167,
  InvalidPipelineOperator: 168,
  DuplicateKey: 11000,
  MergeStageNoMatchingDocument: 13113,
  Location16866: 16866,
  Location16867: 16867,
  Location16868: 16868,
  Location17276: 17276,
  Location40324: 40324,
  Location40414: 40414,
  Location40415: 40415,
  Location40573: 40573,
  Location40601: 40601,
  Location51024: 51024,
  Location51144: 51144,
  Location51198: 51198,
  Location4890500: 4890500,
  // Conversions and arithmetic on BSON numbers.
  ConversionFailure: 241,
  Location16020: 16020,
  Location16554: 16554,
  Location16555: 16555,
  Location16556: 16556,
  Location16608: 16608,
  Location16609: 16609,
  Location16610: 16610,
  Location16611: 16611,
  Location16612: 16612,
  Location28667: 28667,
  Location28680: 28680,
  Location28765: 28765,
  Location51081: 51081,
  Location51082: 51082,
  Location51083: 51083,
} as const;

const codeNames: Record<number, string> = {
  2: 'BadValue',
  9: 'FailedToParse',
  14: 'TypeMismatch',
  20: 'IllegalOperation',
  26: 'NamespaceNotFound',
  27: 'IndexNotFound',
  43: 'CursorNotFound',
  48: 'NamespaceExists',
  52: 'DollarPrefixedFieldName',
  53: 'InvalidIdField',
  59: 'CommandNotFound',
  66: 'ImmutableField',
  72: 'InvalidOptions',
  67: 'CannotCreateIndex',
  68: 'IndexAlreadyExists',
  73: 'InvalidNamespace',
  85: 'IndexOptionsConflict',
  86: 'IndexKeySpecsConflict',
  115: 'CommandNotSupported',
  121: 'DocumentValidationFailure',
  140: 'GraphContainsCycle',
  149: 'ViewDepthLimitExceeded',
  161: 'IncompatibleCollationVersion',
  166: 'CommandNotSupportedOnView',
  167: 'OptionNotSupportedOnView',
  168: 'InvalidPipelineOperator',
  11000: 'DuplicateKey',
  13113: 'MergeStageNoMatchingDocument',
  40324: 'Location40324',
  40573: 'Location40573',
  40601: 'Location40601',
  241: 'ConversionFailure',
  16020: 'Location16020',
  16554: 'Location16554',
  16555: 'Location16555',
  16556: 'Location16556',
  16608: 'Location16608',
  16609: 'Location16609',
  16610: 'Location16610',
  16611: 'Location16611',
  16612: 'Location16612',
  28667: 'Location28667',
  28680: 'Location28680',
  28765: 'Location28765',
  51081: 'Location51081',
  51082: 'Location51082',
  51083: 'Location51083',
};

/** An error a command answers with `{ok: 0, errmsg, code, codeName}` or as a write error. */
export class MongoServerError extends Error {
  readonly code: number;
  readonly extra: Record<string, unknown>;

  constructor(code: number, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = 'MongoServerError';
    this.code = code;
    this.extra = extra;
  }

  get codeName(): string {
    return codeNames[this.code] ?? `Location${this.code}`;
  }

  toReply(): Record<string, unknown> {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName, ...this.extra };
  }

  toWriteError(index: number): Record<string, unknown> {
    return { index, code: this.code, errmsg: this.message, ...this.extra };
  }
}

/**
 * Turns an error thrown by mingo (query, update and aggregation semantics) into the error a
 * real mongod gives for the same input: unknown operators and stages are refused, never ignored.
 */
export function fromQueryEngineError(error: unknown): MongoServerError {
  if (error instanceof MongoServerError) return error;
  const message = error instanceof Error ? error.message : String(error);
  let match = /unknown query operator (\$\w+)/i.exec(message);
  if (match) return new MongoServerError(ErrorCode.BadValue, `unknown operator: ${match[1]}`);
  match = /unregistered pipeline operator (\$\w+)/i.exec(message);
  if (match)
    return new MongoServerError(ErrorCode.Location40324, `Unrecognized pipeline stage name: '${match[1]}'`);
  match = /(?:accumulator|operator|expression) '?(\$\w+)'? is not registered/i.exec(message);
  if (match)
    return new MongoServerError(ErrorCode.InvalidPipelineOperator, `Unrecognized expression '${match[1]}'`);
  match = /Use of undefined variable: (\w+)/.exec(message);
  if (match)
    return match[1] === 'CLUSTER_TIME'
      ? new MongoServerError(ErrorCode.Location51144, "Builtin variable '$$CLUSTER_TIME' is not available")
      : new MongoServerError(ErrorCode.Location17276, `Use of undefined variable: ${match[1]}`);
  match = /Unknown update operator: '(\$\w+)'/i.exec(message);
  if (match) {
    return new MongoServerError(
      ErrorCode.FailedToParse,
      `Unknown modifier: ${match[1]}. Expected a valid update modifier or pipeline-style update specified as an array`,
    );
  }
  if (/would modify the immutable field/.test(message))
    return new MongoServerError(ErrorCode.ImmutableField, message);
  return new MongoServerError(ErrorCode.BadValue, message);
}
