import type { Types } from 'mongoose';

import type { TDeletedCounts } from '@gen3d/shared';

/** Records of one kind that belong to an account and are deleted with it. */
export interface OwnedData {
  kind: Exclude<keyof TDeletedCounts, 'accounts'>;
  /** Deletes every record of this kind the account owns; answers how many went. */
  deleteAllOf(userId: Types.ObjectId): Promise<number>;
}
