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
      // The driver's collection: a read by ids needs none of mongoose's casting or query building.
      const found = await users.collection
        .find<AccountRecord>({ _id: { $in: unique } }, { projection: { passwordHash: 0 } })
        .toArray();
      const byId = new Map(found.map((account) => [account._id.toHexString(), account]));
      return ids.map((id) => byId.get(id));
    },
    { cache: false, maxBatchSize: MAX_IDS_PER_READ, batchScheduleFn: (dispatch) => setImmediate(dispatch) },
  );
  return {
    byId: (id) => loader.load(id),
  };
}
