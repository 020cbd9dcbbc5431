import DataLoader from 'dataloader';
import { Types } from 'mongoose';

import type { UserModel, UserRecord } from './model.js';

/** A stored account without its password hash, as every authenticated request reads it. */
export type AccountRecord = Omit<UserRecord, 'passwordHash'> & { _id: Types.ObjectId };

/** Reads accounts by id, always from the database, coalescing the reads of one event-loop turn. */
export interface AccountReader {
  /** The account as stored now, or undefined when there is none. */
  byId(id: string): Promise<AccountRecord | undefined>;
}

const MAX_IDS_PER_READ = 500;

/**
 * Under load many requests authenticate in the same event-loop turn; one `{_id: {$in}}` read serves
 * them all instead of one round trip each. Nothing is cached: every read starts after the request
 * that asked for it arrived, so a deactivation or role change is seen by the very next request.
 */
export function createAccountReader(users: UserModel): AccountReader {
  const loader = new DataLoader<string, AccountRecord | undefined>(
    async (ids) => {
      const unique = [...new Set(ids)].map((id) => new Types.ObjectId(id));
      const found = await users.find({ _id: { $in: unique } }, { passwordHash: 0 }).lean<AccountRecord[]>();
      const byId = new Map(found.map((account) => [account._id.toHexString(), account]));
      return ids.map((id) => byId.get(id));
    },
    { cache: false, maxBatchSize: MAX_IDS_PER_READ, batchScheduleFn: (dispatch) => setImmediate(dispatch) },
  );
  return {
    byId: (id) => loader.load(id),
  };
}
