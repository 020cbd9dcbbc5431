import { BSON, type Document } from 'bson';

/** Opcodes of the MongoDB wire protocol the embedded server speaks. */
export const OpCode = {
  REPLY: 1,
  QUERY: 2004,
  MSG: 2013,
  COMPRESSED: 2012,
} as const;

const HEADER_BYTES = 16;
const MSG_FLAG_CHECKSUM_PRESENT = 1 << 0;
export const MSG_FLAG_MORE_TO_COME = 1 << 1;

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

const deserializeOptions = { promoteLongs: true, promoteValues: true, promoteBuffers: false, validation: { utf8: false } } as const;

export function readHeader(buffer: Buffer): MessageHeader {
  return {
    messageLength: buffer.readInt32LE(0),
    requestId: buffer.readInt32LE(4),
    responseTo: buffer.readInt32LE(8),
    opCode: buffer.readInt32LE(12),
  };
}

function readCString(buffer: Buffer, offset: number): { value: string; next: number } {
  const end = buffer.indexOf(0, offset);
  if (end < 0) throw new Error('unterminated cstring in message');
  return { value: buffer.toString('utf8', offset, end), next: end + 1 };
}

function readDocument(buffer: Buffer, offset: number): { doc: Document; next: number } {
  const size = buffer.readInt32LE(offset);
  const doc = BSON.deserialize(buffer.subarray(offset, offset + size), deserializeOptions);
  return { doc, next: offset + size };
}

/** Parses one complete message (header included) into a command. */
export function parseMessage(message: Buffer): IncomingCommand {
  const header = readHeader(message);
  if (header.opCode === OpCode.MSG) return parseOpMsg(header, message);
  if (header.opCode === OpCode.QUERY) return parseOpQuery(header, message);
  throw new Error(`unsupported opcode ${header.opCode}`);
}

function parseOpMsg(header: MessageHeader, message: Buffer): IncomingCommand {
  const flags = message.readUInt32LE(HEADER_BYTES);
  const end = flags & MSG_FLAG_CHECKSUM_PRESENT ? message.length - 4 : message.length;
  let offset = HEADER_BYTES + 4;
  let body: Document | undefined;
  const sequences: Array<[string, Document[]]> = [];
  while (offset < end) {
    const kind = message.readUInt8(offset);
    offset += 1;
    if (kind === 0) {
      const read = readDocument(message, offset);
      body = read.doc;
      offset = read.next;
    } else if (kind === 1) {
      const sectionEnd = offset + message.readInt32LE(offset);
      const id = readCString(message, offset + 4);
      const docs: Document[] = [];
      let cursor = id.next;
      while (cursor < sectionEnd) {
        const read = readDocument(message, cursor);
        docs.push(read.doc);
        cursor = read.next;
      }
      sequences.push([id.value, docs]);
      offset = sectionEnd;
    } else {
      throw new Error(`unknown OP_MSG section kind ${kind}`);
    }
  }
  if (!body) throw new Error('OP_MSG without a body section');
  for (const [name, docs] of sequences) body[name] = docs;
  return { header, command: body, legacy: false, moreToCome: (flags & MSG_FLAG_MORE_TO_COME) !== 0 };
}

function parseOpQuery(header: MessageHeader, message: Buffer): IncomingCommand {
  let offset = HEADER_BYTES + 4;
  const collection = readCString(message, offset);
  offset = collection.next + 8;
  const { doc } = readDocument(message, offset);
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
