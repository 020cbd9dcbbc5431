import { HEADER_BYTES, MalformedMessageError } from './wire-protocol.js';

/**
 * Cuts a connection's byte stream into whole messages. Partial data is kept as a list of chunks and joined
 * once per message, so buffering costs linear time in the message size; a length outside
 * [header size, maxMessageBytes] is refused before anything of that size is held.
 */
export class MessageFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxMessageBytes: number) {}

  /** Adds received bytes and returns every message they complete; throws MalformedMessageError on a bad length. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const messages: Buffer[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const length = this.peekLength();
      if (length < HEADER_BYTES || length > this.maxMessageBytes) {
        throw new MalformedMessageError(
          `a message length of ${length} bytes (allowed ${HEADER_BYTES} to ${this.maxMessageBytes})`,
        );
      }
      if (this.buffered < length) break;
      messages.push(this.take(length));
    }
    return messages;
  }

  private peekLength(): number {
    const first = this.chunks[0] as Buffer;
    if (first.length >= 4) return first.readInt32LE(0);
    // Rare: the length itself arrived split; join what is held (at most a few bytes more than the length).
    const joined = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [joined];
    return joined.readInt32LE(0);
  }

  private take(length: number): Buffer {
    const first = this.chunks[0] as Buffer;
    let message: Buffer;
    if (first.length >= length) {
      message = first.subarray(0, length);
      if (first.length === length) this.chunks.shift();
      else this.chunks[0] = first.subarray(length);
    } else {
      const joined = Buffer.concat(this.chunks, this.buffered);
      message = joined.subarray(0, length);
      this.chunks = joined.length > length ? [joined.subarray(length)] : [];
    }
    this.buffered -= length;
    return message;
  }
}
