import fc from 'fast-check';
import { sample } from 'openapi-sampler';

import { hostileBodyText, hostileParameter, hostileValue } from './hostile-values.js';
import type { DocumentValidator, FuzzOperation, OpenApiDocument } from './openapi-operations.js';

export type ResourceKind = 'user' | 'chat' | 'job' | 'message' | 'asset';
type IdChoice = 'own' | 'other' | 'malformed' | 'absent';

/** A caller: its Authorization header, and real ids of its own and of another account's records. */
export interface FuzzIdentity {
  name: string;
  authorization: string | undefined;
  ids: Record<'own' | 'other', Record<ResourceKind, string>>;
}

export interface FuzzRequest {
  operation: FuzzOperation;
  identity: string;
  kind: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** false: the document says this input is invalid, so no 2xx may answer it; undefined: not judged. */
  inputValid: boolean | undefined;
}

export interface Finding {
  request: string;
  problem: string;
}

const KINDS = [
  'valid',
  'valid',
  'field',
  'field',
  'field',
  'missing',
  'extra',
  'body',
  'param',
  'param',
  'transport',
] as const;
const ABSENT_ID = 'fffffffffffffffffffffff0';
const MALFORMED_IDS = ['zzzzzzzzzzzzzzzzzzzzzzzz', '123', '../../etc/passwd', '%00', '{"$gt":""}'];

/** Which kind of record a parameter or field names, from its name and the operation's path. */
function resourceOf(name: string, path: string): ResourceKind | undefined {
  if (name === 'id') {
    if (path.startsWith('/chats')) return 'chat';
    if (path.startsWith('/jobs')) return 'job';
    if (path.includes('/users')) return 'user';
    return undefined;
  }
  if (name === 'chatId') return 'chat';
  if (name === 'jobId') return 'job';
  if (name === 'userId' || name === 'actorId' || name === 'targetId') return 'user';
  if (name === 'assetId') return 'asset';
  if (name === 'after' || name === 'before') return 'message';
  return undefined;
}

function idFor(kind: ResourceKind, choice: IdChoice, identity: FuzzIdentity, pick: number): string {
  if (choice === 'absent') return ABSENT_ID;
  if (choice === 'malformed') return MALFORMED_IDS[pick % MALFORMED_IDS.length] as string;
  return identity.ids[choice][kind];
}

/** Replaces every id-naming field of a sampled body with a chosen id, walking nested objects and arrays. */
function fillIds(value: unknown, path: string, id: (kind: ResourceKind) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => fillIds(item, path, id));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => {
      const kind = resourceOf(key, path);
      return [key, kind && typeof field === 'string' ? id(kind) : fillIds(field, path, id)];
    }),
  );
}

/** Percent-encodes a parameter but keeps its own `%` sequences, so bad percent-encoding reaches the server. */
const encodeParameter = (text: string): string => encodeURIComponent(text).replace(/%25/g, '%');

function decoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** A path segment the URL parser would not resolve away (`.`, `..`) or drop (empty). */
const pathSegment = (text: string): string => (text === '' || /^(\.|%2e)+$/i.test(text) ? ' ' : text);

interface Plan {
  operation: number;
  identity: number;
  kind: (typeof KINDS)[number];
  idChoice: IdChoice;
  parameter: string;
  value: unknown;
  bodyText: { text: string; contentType: string };
  pick: number;
  includeOptional: boolean;
}

/**
 * `count` requests over the operations, deterministic from `seed`: schema samples with real ids, single
 * fields replaced by hostile values, missing and extra fields, hostile bodies and parameters, transport
 * faults; each from one of the identities.
 */
export function planRequests(
  document: OpenApiDocument,
  operations: FuzzOperation[],
  identities: FuzzIdentity[],
  validator: DocumentValidator,
  count: number,
  seed: number,
): FuzzRequest[] {
  const plans = fc.sample(
    fc.record<Plan>({
      operation: fc.nat(operations.length - 1),
      identity: fc.nat(identities.length - 1),
      kind: fc.constantFrom(...KINDS),
      idChoice: fc.constantFrom<IdChoice>('own', 'own', 'other', 'malformed', 'absent'),
      parameter: hostileParameter,
      value: hostileValue,
      bodyText: hostileBodyText,
      pick: fc.nat(),
      includeOptional: fc.boolean(),
    }),
    { seed, numRuns: count },
  );
  return plans.map((plan) =>
    requestOf(
      document,
      operations[plan.operation] as FuzzOperation,
      identities[plan.identity] as FuzzIdentity,
      validator,
      plan,
    ),
  );
}

function requestOf(
  document: OpenApiDocument,
  operation: FuzzOperation,
  identity: FuzzIdentity,
  validator: DocumentValidator,
  plan: Plan,
): FuzzRequest {
  const id = (kind: ResourceKind): string => idFor(kind, plan.idChoice, identity, plan.pick);
  const body: unknown = operation.bodySchema
    ? fillIds(
        sample(operation.bodySchema as never, { skipReadOnly: true, quiet: true }, document as never),
        operation.path,
        id,
      )
    : undefined;
  const parameters = new Map<string, string>();
  for (const parameter of operation.parameters) {
    const kind = resourceOf(parameter.name, operation.path);
    if (!parameter.required && !plan.includeOptional) continue;
    parameters.set(
      parameter.name,
      kind ? id(kind) : String(sample(parameter.schema as never, { quiet: true }) ?? ''),
    );
  }
  let kind: string = plan.kind;
  if (
    (kind === 'field' || kind === 'missing' || kind === 'extra') &&
    (body === null || typeof body !== 'object' || Array.isArray(body))
  )
    kind = 'param';
  if (kind === 'body' && !operation.bodySchema) kind = 'param';
  if (kind === 'param' && operation.parameters.length === 0)
    kind = operation.bodySchema ? 'field' : 'transport';
  const fields = body && typeof body === 'object' ? Object.keys(body) : [];
  if (kind === 'field' && fields.length === 0) kind = 'extra';

  let bodyText: string | undefined;
  let contentType = 'application/json';
  let judged = true;
  let suffix = '';
  if (kind === 'field')
    (body as Record<string, unknown>)[fields[plan.pick % fields.length] as string] = plan.value;
  if (kind === 'missing')
    Reflect.deleteProperty(body as Record<string, unknown>, fields[plan.pick % fields.length] as string);
  if (kind === 'extra') (body as Record<string, unknown>).unexpectedField = plan.value;
  if (kind === 'param') {
    const target = operation.parameters[plan.pick % operation.parameters.length];
    if (target) parameters.set(target.name, plan.parameter);
  }
  if (body !== undefined) bodyText = JSON.stringify(body);
  if (kind === 'body') {
    bodyText = plan.bodyText.text;
    contentType = plan.bodyText.contentType;
  }
  if (kind === 'transport') {
    if (plan.pick % 2 === 0)
      suffix = `${operation.parameters.some((parameter) => parameter.in === 'query') ? '&' : '?'}pad=${'a'.repeat(16_500)}`;
    else {
      // A bodiless request with a JSON content type is no input (tests/rest/bodiless-requests.test.ts);
      // whether that is valid depends on the operation, which the document does not say.
      bodyText = undefined;
      judged = false;
    }
  }

  let path = operation.path;
  const query: string[] = [];
  for (const parameter of operation.parameters) {
    const value = parameters.get(parameter.name);
    // An empty or dot segment would name another operation (`/jobs/.` is `/jobs`): a blank stands in for it.
    if (parameter.in === 'path')
      path = path.replace(`{${parameter.name}}`, encodeParameter(pathSegment(value ?? '')));
    else if (value !== undefined) query.push(`${parameter.name}=${encodeParameter(value)}`);
  }
  const url = `/api${path}${query.length > 0 ? `?${query.join('&')}` : ''}${query.length === 0 && suffix.startsWith('&') ? suffix.replace('&', '?') : suffix}`;

  let inputValid: boolean | undefined = judged ? true : undefined;
  if (kind === 'body' || suffix) inputValid = false;
  else if (judged) {
    if (operation.bodySchema)
      inputValid = bodyText !== undefined && validator.matches(operation.bodySchema, body).ok;
    for (const parameter of operation.parameters) {
      const value = parameters.get(parameter.name);
      // An empty query parameter counts as absent (as the server reads it).
      if (value === undefined || (value === '' && parameter.in === 'query')) {
        if (parameter.required) inputValid = false;
      } else {
        // Judged as the server reads it: percent-decoded; text that does not decode is invalid.
        const read = decoded(encodeParameter(parameter.in === 'path' ? pathSegment(value) : value));
        if (read === undefined || !validator.parameterMatches(parameter.schema, read)) inputValid = false;
      }
    }
  }
  const headers: Record<string, string> = {
    ...(identity.authorization ? { authorization: identity.authorization } : {}),
  };
  if (bodyText !== undefined || kind === 'transport') headers['content-type'] = contentType;
  const method = operation.method;
  return {
    operation,
    identity: identity.name,
    kind,
    method,
    url,
    headers,
    body: method === 'GET' ? undefined : bodyText,
    inputValid,
  };
}
