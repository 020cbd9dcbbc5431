import { DomainError } from '../domain-errors.js';

export interface StreamSlotLimits {
  perUser: number;
  perAddress: number;
}

/**
 * Counts the long-lived streams this instance holds open, per user and per client address; a stream past
 * either cap is refused with TOO_MANY_STREAMS (429) before it starts.
 */
export class StreamSlots {
  private readonly byUser = new Map<string, number>();
  private readonly byAddress = new Map<string, number>();

  constructor(private readonly limits: StreamSlotLimits) {}

  /** Takes a slot for the stream; call the returned function once when it ends. */
  acquire(userId: string, address: string): () => void {
    const users = this.byUser.get(userId) ?? 0;
    const addresses = this.byAddress.get(address) ?? 0;
    if (users >= this.limits.perUser)
      throw new DomainError(
        'TOO_MANY_STREAMS',
        `You already have ${users} live streams open, the most one account may hold; close one first`,
        { retryAfterSeconds: 1 },
      );
    if (addresses >= this.limits.perAddress)
      throw new DomainError(
        'TOO_MANY_STREAMS',
        `Your address already holds ${addresses} live streams, the most allowed; close one first`,
        { retryAfterSeconds: 1 },
      );
    this.byUser.set(userId, users + 1);
    this.byAddress.set(address, addresses + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.decrement(this.byUser, userId);
      this.decrement(this.byAddress, address);
    };
  }

  private decrement(counts: Map<string, number>, key: string): void {
    const left = (counts.get(key) ?? 1) - 1;
    if (left <= 0) counts.delete(key);
    else counts.set(key, left);
  }
}
