import fc from 'fast-check';

/** Objects and arrays nested `depth` deep around a number. */
const nested = (depth: number): unknown =>
  depth === 0 ? 1 : depth % 2 === 0 ? [nested(depth - 1)] : { a: nested(depth - 1) };

/** Values put in place of a body field: wrong types, edge strings, operators, prototype keys, depth, width. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    true,
    false,
    0,
    -1,
    1e308,
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    'NaN',
    '-1',
    '1e3',
    '0x10',
    'true',
    'false',
    '[object Object]',
    'x'.repeat(100_000),
    { $gt: '' },
    { $ne: null },
    { $where: 'sleep(1000)' },
    { $regex: '.*' },
    JSON.parse('{"__proto__":{"isAdmin":true}}') as unknown,
    { constructor: { prototype: { isAdmin: true } } },
    [[3]],
    [],
    {},
    nested(60),
    Array.from({ length: 2_000 }, (_, index) => index),
  ),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 40 }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Texts put in place of a query or path parameter. */
export const hostileParameter: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    'NaN',
    'Infinity',
    '-1',
    '0',
    '1e309',
    '1e3',
    '0x10',
    '2.5',
    '99999999999999999999',
    'true',
    'null',
    '[]',
    '{"$gt":""}',
    '\u0000',
    '%00',
    '%E0%A4%A',
    '../../etc/passwd',
    'a'.repeat(3_000),
  ),
  fc.string({ maxLength: 30 }),
  fc.integer().map(String),
);

/** Whole request bodies that are not what any operation takes. */
export const hostileBodyText: fc.Arbitrary<{ text: string; contentType: string }> = fc.oneof(
  fc
    .constantFrom(
      'true',
      '1',
      'null',
      '"text"',
      '[]',
      '[{}]',
      '{',
      '{"a":',
      '{"a":1}}',
      '\u0000',
      '{"__proto__":{"x":1}}',
      `{"a":${'['.repeat(5_000)}${']'.repeat(5_000)}}`,
    )
    .map((text) => ({ text, contentType: 'application/json' })),
  fc
    .constantFrom(
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
    )
    .map((contentType) => ({ text: 'a=1&b=2', contentType })),
  // Not empty: an empty body is no body (tests/rest/bodiless-requests.test.ts), not a malformed one.
  fc.string({ minLength: 1, maxLength: 50 }).map((text) => ({ text, contentType: 'application/json' })),
);
