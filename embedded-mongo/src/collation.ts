import { createRequire } from 'node:module';

import type { Document } from 'bson';

import { typeNameOf, typeOrderOf } from './bson-types.js';
import { ErrorCode, MongoServerError } from './errors.js';
import { valueKey } from './value-keys.js';
import { compareValues } from './value-order.js';

/** A collation as mongod 7.0 reports it once its defaults are filled in (listIndexes, listCollections). */
export interface CollationSpec extends Document {
  locale: string;
  caseLevel: boolean;
  caseFirst: 'upper' | 'lower' | 'off';
  strength: number;
  numericOrdering: boolean;
  alternate: 'non-ignorable' | 'shifted';
  maxVariable: 'punct' | 'space';
  normalization: boolean;
  backwards: boolean;
  version: string;
}

/** The ICU version mongod 7.0 links and reports in every collation spec. */
const ICU_VERSION = '57.1';

const FIELD_TYPES: Record<string, 'string' | 'bool' | 'number'> = {
  locale: 'string',
  caseLevel: 'bool',
  caseFirst: 'string',
  strength: 'number',
  numericOrdering: 'bool',
  alternate: 'string',
  maxVariable: 'string',
  normalization: 'bool',
  backwards: 'bool',
  version: 'string',
};

const ENUMS: Record<string, readonly string[]> = {
  caseFirst: ['upper', 'lower', 'off'],
  alternate: ['non-ignorable', 'shifted'],
  maxVariable: ['punct', 'space'],
};

const SENSITIVITY: Record<number, 'base' | 'accent' | 'variant'> = {
  1: 'base',
  2: 'accent',
  3: 'variant',
  4: 'variant',
  5: 'variant',
};

const WHITE_SPACE = /\p{White_Space}/gu;

function shown(spec: Document): string {
  return `{ ${Object.entries(spec)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`)
    .join(', ')} }`;
}

/** The ICU locale ID mongod accepts (en_US) as a BCP 47 tag (en-US), or undefined when ICU has no collator for it. */
function resolvedLocale(locale: string): string | undefined {
  if (!/^[A-Za-z]{2,8}(_[A-Za-z0-9]{2,8})*$/.test(locale)) return undefined;
  try {
    const tag = locale.replaceAll('_', '-');
    if (Intl.Collator.supportedLocalesOf(tag).length === 0) return undefined;
    return new Intl.Collator(tag).resolvedOptions().locale.replaceAll('-', '_');
  } catch {
    return undefined;
  }
}

/**
 * Whether the locale's ICU collator weighs accents from the end of the string (French secondary
 * ordering, as fr_CA does): "côte" then sorts before "coté".
 */
function localeBackwards(locale: string): boolean {
  return (
    new Intl.Collator(locale.replaceAll('_', '-'), { sensitivity: 'accent' }).compare('côte', 'coté') < 0
  );
}

/** Checks a collation document field by field, as mongod's IDL parser and ICU collator factory do. */
function validate(raw: Document): CollationSpec | undefined {
  for (const [field, value] of Object.entries(raw)) {
    const type = FIELD_TYPES[field];
    if (!type)
      throw new MongoServerError(
        ErrorCode.Location40415,
        `BSON field 'collation.${field}' is an unknown field.`,
      );
    const ok =
      type === 'string'
        ? typeof value === 'string'
        : type === 'bool'
          ? typeof value === 'boolean'
          : typeof value === 'number';
    // The boolean fields are IDL optionalBools, whose parser words its refusal its own way.
    if (!ok)
      throw new MongoServerError(
        ErrorCode.TypeMismatch,
        type === 'bool'
          ? `Field '${field}' should be a boolean value, but found: ${typeNameOf(value)}`
          : `BSON field 'collation.${field}' is the wrong type '${typeNameOf(value)}', expected type '${type === 'number' ? 'int' : type}'`,
      );
    const allowed = ENUMS[field];
    if (allowed && !allowed.includes(value as string))
      throw new MongoServerError(
        ErrorCode.BadValue,
        `Enumeration value '${String(value)}' for field 'collation.${field}' is not a valid value.`,
      );
  }
  const locale = raw.locale as string | undefined;
  if (locale === undefined)
    throw new MongoServerError(
      ErrorCode.Location40414,
      "BSON field 'collation.locale' is missing but a required field",
    );
  if (locale.includes('\0'))
    throw new MongoServerError(
      ErrorCode.BadValue,
      `Field 'locale' cannot contain null byte. Collation spec: ${shown(raw)}`,
    );
  if (locale === 'simple') return undefined;
  if (locale === '')
    throw new MongoServerError(
      ErrorCode.BadValue,
      `Field 'locale' cannot be the empty string in: ${shown(raw)}`,
    );
  const resolved = resolvedLocale(locale);
  if (resolved !== locale) {
    const hint = resolved && resolved !== 'root' ? `. Did you mean '${resolved}'?` : '';
    throw new MongoServerError(ErrorCode.BadValue, `Field 'locale' is invalid in: ${shown(raw)}${hint}`);
  }
  const strength = (raw.strength as number | undefined) ?? 3;
  if (![1, 2, 3, 4, 5].includes(strength))
    throw new MongoServerError(
      ErrorCode.BadValue,
      `Enumeration value '${strength}' for field 'collation.strength' is not a valid value.`,
    );
  if (raw.version !== undefined && raw.version !== ICU_VERSION)
    throw new MongoServerError(
      ErrorCode.IncompatibleCollationVersion,
      `Requested collation version ${String(raw.version)} but the only available collator version was ${ICU_VERSION}. Requested collation spec: ${shown(raw)}`,
    );
  const spec: CollationSpec = {
    locale,
    caseLevel: (raw.caseLevel as boolean | undefined) ?? false,
    caseFirst: (raw.caseFirst as CollationSpec['caseFirst'] | undefined) ?? 'off',
    strength,
    numericOrdering: (raw.numericOrdering as boolean | undefined) ?? false,
    alternate: (raw.alternate as CollationSpec['alternate'] | undefined) ?? 'non-ignorable',
    maxVariable: (raw.maxVariable as CollationSpec['maxVariable'] | undefined) ?? 'punct',
    normalization: (raw.normalization as boolean | undefined) ?? false,
    backwards: (raw.backwards as boolean | undefined) ?? localeBackwards(locale),
    version: ICU_VERSION,
  };
  if (spec.backwards && spec.strength === 1)
    throw new MongoServerError(
      ErrorCode.BadValue,
      `'backwards' is invalid with 'strength' of 1 in: ${shown(raw)}`,
    );
  if (spec.caseFirst !== 'off' && !spec.caseLevel && spec.strength < 3)
    throw new MongoServerError(
      ErrorCode.BadValue,
      `'caseFirst' is invalid unless 'caseLevel' is on or 'strength' is greater than 2 in: ${shown(raw)}`,
    );
  // What Intl.Collator (ICU without attribute access) cannot honour is refused, never approximated.
  if (spec.backwards !== localeBackwards(locale))
    throw new MongoServerError(
      ErrorCode.BadValue,
      `'backwards' other than the locale's own (${String(localeBackwards(locale))}) is not supported by the embedded server in: ${shown(raw)}`,
    );
  if (spec.strength === 4 && spec.alternate === 'shifted')
    throw new MongoServerError(
      ErrorCode.BadValue,
      `'strength' of 4 with 'alternate' of 'shifted' is not supported by the embedded server in: ${shown(raw)}`,
    );
  return spec;
}

function isPlainDocument(value: unknown): value is Document {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** A non-simple collation: compares strings with ICU (via Intl.Collator), everything else in BSON order. */
export class Collation {
  readonly spec: CollationSpec;
  /** Equal for two collations exactly when they compare every pair of strings the same way. */
  readonly key: string;
  readonly compareStrings: (a: string, b: string) => number;

  constructor(spec: CollationSpec) {
    this.spec = spec;
    this.key = valueKey(spec);
    const shifted = spec.alternate === 'shifted';
    const collator = new Intl.Collator(spec.locale.replaceAll('_', '-'), {
      usage: 'sort',
      // caseLevel adds case to strengths 1 and 2: "case" at 1; at 2 ICU's "variant" is the nearest Intl offers.
      sensitivity: spec.caseLevel ? (spec.strength === 1 ? 'case' : 'variant') : SENSITIVITY[spec.strength],
      caseFirst: spec.caseFirst === 'off' ? 'false' : spec.caseFirst,
      numeric: spec.numericOrdering,
      // ICU's shifted alternate with maxVariable "punct" ignores spaces and punctuation below the quaternary level.
      ignorePunctuation: shifted && spec.maxVariable === 'punct',
    });
    let compare = collator.compare;
    if (shifted && spec.maxVariable === 'space') {
      const base = compare;
      compare = (a, b) => base(a.replace(WHITE_SPACE, ''), b.replace(WHITE_SPACE, ''));
    }
    if (spec.normalization) {
      const base = compare;
      compare = (a, b) => base(a.normalize('NFD'), b.normalize('NFD'));
    }
    if (spec.strength === 5) {
      // The identical level breaks remaining ties by the code points of the NFD forms.
      const base = compare;
      compare = (a, b) => {
        const order = base(a, b);
        if (order !== 0) return order;
        const x = a.normalize('NFD');
        const y = b.normalize('NFD');
        return x < y ? -1 : x > y ? 1 : 0;
      };
    }
    this.compareStrings = compare;
  }

  /** BSON order in which strings, also inside documents and arrays, compare by this collation. */
  readonly compare = (a: unknown, b: unknown): number => {
    if (typeof a === 'string' && typeof b === 'string') return Math.sign(this.compareStrings(a, b));
    if (Array.isArray(a) && Array.isArray(b)) {
      for (let index = 0; index < Math.min(a.length, b.length); index += 1) {
        const order = this.compare(a[index], b[index]);
        if (order !== 0) return order;
      }
      return Math.sign(a.length - b.length);
    }
    if (isPlainDocument(a) && isPlainDocument(b)) {
      const left = Object.entries(a);
      const right = Object.entries(b);
      for (let index = 0; index < Math.min(left.length, right.length); index += 1) {
        const [aKey, aValue] = left[index] as [string, unknown];
        const [bKey, bValue] = right[index] as [string, unknown];
        const byType = Math.sign(typeOrderOf(aValue) - typeOrderOf(bValue));
        if (byType !== 0) return byType;
        if (aKey !== bKey) return aKey < bKey ? -1 : 1;
        const order = this.compare(aValue, bValue);
        if (order !== 0) return order;
      }
      return Math.sign(left.length - right.length);
    }
    return compareValues(a, b);
  };

  equals(a: unknown, b: unknown): boolean {
    return this.compare(a, b) === 0;
  }
}

/** Parsed collations by their spec, so that operations repeating one share its collator and operators. */
const parsed = new Map<string, Collation | undefined>();
/** Past this many distinct specs the cache starts afresh (clients normally use a handful). */
const PARSED_LIMIT = 256;

/**
 * The collation a `collation` document asks for, validated as mongod does; undefined for the simple
 * binary collation (`{locale: "simple"}`).
 */
export function parseCollation(raw: unknown): Collation | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new MongoServerError(
      ErrorCode.TypeMismatch,
      `BSON field 'collation' is the wrong type '${typeNameOf(raw)}', expected type 'object'`,
    );
  const cacheKey = valueKey(raw);
  if (parsed.has(cacheKey)) return parsed.get(cacheKey);
  const spec = validate(raw as Document);
  const collation = spec ? new Collation(spec) : undefined;
  if (parsed.size >= PARSED_LIMIT) parsed.clear();
  parsed.set(cacheKey, collation);
  return collation;
}

/**
 * The collation an operation runs with: its own `collation` field when given (`{locale: "simple"}` then
 * means binary), else the collection's default.
 */
export function operationCollation(
  raw: unknown,
  collectionDefault: Collation | undefined,
): Collation | undefined {
  if (raw === undefined || raw === null) return collectionDefault;
  return parseCollation(raw);
}

export function sameCollation(a: Collation | undefined, b: Collation | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.key === b.key);
}

/** What the equality keys use of sorted-btree's BTree. */
interface Representatives {
  get(key: string): string | undefined;
  set(key: string, value: string, overwrite: boolean): boolean;
}

const { default: BTree } = createRequire(import.meta.url)('sorted-btree') as {
  default: new (entries: undefined, compare: (a: string, b: string) => number) => Representatives;
};

/**
 * Equality keys under a collation (Intl.Collator has no sort keys): every string is replaced by the first
 * string seen that the collation finds equal to it, found in a B-tree ordered by the collator, so that
 * equal values get equal keys with a logarithmic lookup.
 */
export class CollationKeys {
  private readonly representatives: Representatives;

  constructor(collation: Collation) {
    this.representatives = new BTree(undefined, collation.compareStrings);
  }

  /** The key of a value, learning its strings. */
  keyOf(value: unknown): string {
    return valueKey(this.canonical(value, true));
  }

  /** The key of a value, or undefined when it holds a string no learned value equals (nothing can match). */
  lookupKey(value: unknown): string | undefined {
    const canonical = this.canonical(value, false);
    return canonical === MISSING ? undefined : valueKey(canonical);
  }

  private canonical(value: unknown, learn: boolean): unknown {
    if (typeof value === 'string') {
      const known = this.representatives.get(value);
      if (known !== undefined) return known;
      if (!learn) return MISSING;
      this.representatives.set(value, value, false);
      return value;
    }
    if (Array.isArray(value)) {
      const items = value.map((item) => this.canonical(item, learn));
      return items.includes(MISSING) ? MISSING : items;
    }
    if (isPlainDocument(value)) {
      const out: Document = {};
      for (const [field, item] of Object.entries(value)) {
        const canonical = this.canonical(item, learn);
        if (canonical === MISSING) return MISSING;
        out[field] = canonical;
      }
      return out;
    }
    return value;
  }
}

const MISSING = Symbol('no equal value known');
