import { BSON, type Document } from 'bson';

import { typePreservingDeserializer } from './bson-numbers.js';

/** Opcodes of the MongoDB wire protocol the embedded server speaks. */
export const OpCode = {
  REPLY: 1,
  QUERY: 2004,
  MSG: 2013,
  COMPRESSED: 2012,
} as const;

export const HEADER_BYTES = 16;
const MSG_FLAG_CHECKSUM_PRESENT = 1 << 0;
export const MSG_FLAG_MORE_TO_COME = 1 << 1;
const MSG_FLAG_EXHAUST_ALLOWED = 1 << 16;
/** Bits 0-15 are "required": a receiver must refuse a message with one it does not know (OP_MSG spec). */
const MSG_REQUIRED_BITS = 0xffff;
const MSG_KNOWN_FLAGS = MSG_FLAG_CHECKSUM_PRESENT | MSG_FLAG_MORE_TO_COME | MSG_FLAG_EXHAUST_ALLOWED;
/** The smallest BSON document: a length and the terminating zero. */
const MIN_DOCUMENT_BYTES = 5;

export interface MessageHeader {
  messageLength: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

export interface IncomingCommand {
  header: MessageHeader;
  /** The command document with OP_MSG document sequences folded in as arrays. */
  command: Document;
  /** Set for OP_QUERY, whose reply is an OP_REPLY. */
  legacy: boolean;
  /** OP_MSG moreToCome: the client expects no reply (unacknowledged write). */
  moreToCome: boolean;
  /** Database of an OP_QUERY (`db.$cmd`); OP_MSG carries `$db` in the command. */
  legacyDatabase?: string;
}

/** A frame that breaks the wire protocol; the connection that sent it is closed. */
export class MalformedMessageError extends Error {
  constructor(reason: string) {
    super(`malformed wire-protocol message: ${reason}`);
    this.name = 'MalformedMessageError';
  }
}

const deserialize = typePreservingDeserializer({ validation: { utf8: false } });

export function readHeader(buffer: Buffer): MessageHeader {
  return {
    messageLength: buffer.readInt32LE(0),
    requestId: buffer.readInt32LE(4),
    responseTo: buffer.readInt32LE(8),
    opCode: buffer.readInt32LE(12),
  };
}

/** Reads an int32 that must lie wholly before `end`. */
function readInt32Within(buffer: Buffer, offset: number, end: number, what: string): number {
  if (offset + 4 > end) throw new MalformedMessageError(`${what} runs past the end of its message`);
  return buffer.readInt32LE(offset);
}

function readCString(buffer: Buffer, offset: number, end: number): { value: string; next: number } {
  const terminator = buffer.subarray(0, end).indexOf(0, offset);
  if (terminator < 0) throw new MalformedMessageError('a string has no terminating zero');
  return { value: buffer.toString('utf8', offset, terminator), next: terminator + 1 };
}

/** Reads one BSON document that must lie wholly within [offset, end). */
function readDocument(buffer: Buffer, offset: number, end: number): { doc: Document; next: number } {
  const size = readInt32Within(buffer, offset, end, 'a document length');
  if (size < MIN_DOCUMENT_BYTES || offset + size > end)
    throw new MalformedMessageError(`a document declares ${size} bytes where ${end - offset} remain`);
  let doc: Document;
  try {
    doc = deserialize(buffer.subarray(offset, offset + size));
  } catch (error) {
    throw new MalformedMessageError(
      `invalid BSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  return { doc, next: offset + size };
}

/** Parses one complete message (header included, its length already checked by the framer) into a command. */
export function parseMessage(message: Buffer): IncomingCommand {
  if (message.length < HEADER_BYTES) throw new MalformedMessageError('shorter than a message header');
  const header = readHeader(message);
  if (header.messageLength !== message.length)
    throw new MalformedMessageError(`declares ${header.messageLength} bytes but holds ${message.length}`);
  if (header.opCode === OpCode.MSG) return parseOpMsg(header, message);
  if (header.opCode === OpCode.QUERY) return parseOpQuery(header, message);
  throw new MalformedMessageError(`unsupported opcode ${header.opCode}`);
}

function parseOpMsg(header: MessageHeader, message: Buffer): IncomingCommand {
  const flags = readInt32Within(message, HEADER_BYTES, message.length, 'the OP_MSG flags') >>> 0;
  const unknownRequired = flags & MSG_REQUIRED_BITS & ~MSG_KNOWN_FLAGS;
  if (unknownRequired !== 0)
    throw new MalformedMessageError(`unknown required OP_MSG flag bits ${unknownRequired}`);
  const end = flags & MSG_FLAG_CHECKSUM_PRESENT ? message.length - 4 : message.length;
  let offset = HEADER_BYTES + 4;
  if (end <= offset) throw new MalformedMessageError('an OP_MSG without sections');
  let body: Document | undefined;
  const sequences: Array<[string, Document[]]> = [];
  while (offset < end) {
    const kind = message.readUInt8(offset);
    offset += 1;
    if (kind === 0) {
      if (body) throw new MalformedMessageError('an OP_MSG with two body sections');
      const read = readDocument(message, offset, end);
      body = read.doc;
      offset = read.next;
    } else if (kind === 1) {
      const size = readInt32Within(message, offset, end, 'a document sequence length');
      // A sequence holds its length, an identifier (at least its zero) and documents.
      if (size < 5 || offset + size > end)
        throw new MalformedMessageError(
          `a document sequence declares ${size} bytes where ${end - offset} remain`,
        );
      const sectionEnd = offset + size;
      const id = readCString(message, offset + 4, sectionEnd);
      const docs: Document[] = [];
      let cursor = id.next;
      while (cursor < sectionEnd) {
        const read = readDocument(message, cursor, sectionEnd);
        docs.push(read.doc);
        cursor = read.next;
      }
      sequences.push([id.value, docs]);
      offset = sectionEnd;
    } else {
      throw new MalformedMessageError(`unknown OP_MSG section kind ${kind}`);
    }
  }
  if (!body) throw new MalformedMessageError('an OP_MSG without a body section');
  for (const [name, docs] of sequences) {
    if (Object.hasOwn(body, name))
      throw new MalformedMessageError(`a document sequence "${name}" duplicates a body field`);
    // Defined, not assigned: a sequence named `__proto__` becomes a field, never the command's prototype.
    Object.defineProperty(body, name, { value: docs, enumerable: true, writable: true, configurable: true });
  }
  return { header, command: body, legacy: false, moreToCome: (flags & MSG_FLAG_MORE_TO_COME) !== 0 };
}

function parseOpQuery(header: MessageHeader, message: Buffer): IncomingCommand {
  let offset = HEADER_BYTES + 4;
  const collection = readCString(message, offset, message.length);
  offset = collection.next + 8;
  const { doc } = readDocument(message, offset, message.length);
  // Drivers wrap legacy commands as {$query: {...}, $readPreference: ...}.
  const command = typeof doc.$query === 'object' && doc.$query !== null ? (doc.$query as Document) : doc;
  const database = collection.value.split('.')[0] ?? 'admin';
  return { header, command, legacy: true, moreToCome: false, legacyDatabase: database };
}

let nextRequestId = 1;

function writeHeader(target: Buffer, length: number, responseTo: number, opCode: number): void {
  target.writeInt32LE(length, 0);
  target.writeInt32LE(nextRequestId++ & 0x7fffffff, 4);
  target.writeInt32LE(responseTo, 8);
  target.writeInt32LE(opCode, 12);
}

/** An OP_MSG reply with a single body section. */
export function encodeOpMsgReply(responseTo: number, reply: Document): Buffer {
  const body = BSON.serialize(reply);
  const prefix = Buffer.alloc(HEADER_BYTES + 5);
  writeHeader(prefix, prefix.length + body.length, responseTo, OpCode.MSG);
  prefix.writeUInt32LE(0, HEADER_BYTES);
  prefix.writeUInt8(0, HEADER_BYTES + 4);
  return Buffer.concat([prefix, body]);
}

/** An OP_REPLY carrying one document, the answer to a legacy OP_QUERY command. */
export function encodeOpReply(responseTo: number, reply: Document): Buffer {
  const body = BSON.serialize(reply);
  const prefix = Buffer.alloc(HEADER_BYTES + 20);
  writeHeader(prefix, prefix.length + body.length, responseTo, OpCode.REPLY);
  prefix.writeInt32LE(0, HEADER_BYTES); // responseFlags
  prefix.writeBigInt64LE(0n, HEADER_BYTES + 4); // cursorID
  prefix.writeInt32LE(0, HEADER_BYTES + 12); // startingFrom
  prefix.writeInt32LE(1, HEADER_BYTES + 16); // numberReturned
  return Buffer.concat([prefix, body]);
}
