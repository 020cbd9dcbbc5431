import { LRUCache } from 'lru-cache';
import { Types, type QueryFilter } from 'mongoose';

import type {
  TAdminApiKey,
  TAdminApiKeyList,
  TApiKey,
  TApiKeyScope,
  TCreatedApiKey,
  TRole,
} from '@gen3d/shared';

import { onPage, paginationOf, type PageRequest } from '../../db/paging.js';
import { DomainError, NotFound, Unauthorized } from '../../domain-errors.js';
import { KeyedSerializer } from '../../infra/keyed-serializer.js';
import type { Actor, AuditLog } from '../audit/audit-log.js';
import type { AuthenticatedUser } from '../auth/session-service.js';
import type { AccountReader } from '../users/account-reader.js';
import type { UserModel } from '../users/model.js';
import { toMe } from '../users/user-views.js';
import { displayPrefixOf, hashApiKeySecret, newApiKey, parseApiKey, secretMatches } from './key-format.js';
import type { ApiKeyModel, ApiKeyRecord } from './model.js';

/** The key a request was authenticated with. */
export interface UsedApiKey {
  id: string;
  scopes: TApiKeyScope[];
}

/** Where a request comes from, as the key's last use and the audit log record it. */
export interface KeyUseDevice {
  ip: string;
  /** The client as per-address limits count it (IPv4 address or IPv6 /64). */
  addressKey: string;
  userAgent: string | undefined;
}

export interface NewApiKey {
  name: string;
  scopes: TApiKeyScope[];
  expiresAt?: string | undefined;
}

export interface ApiKeyService {
  /** A new key of `ownerId`, returned whole this once; QUOTA_EXCEEDED past the per-user cap. */
  create(actor: Actor, ownerId: string, input: NewApiKey): Promise<TCreatedApiKey>;
  /** The owner's keys, newest first, without secrets. */
  listOwn(ownerId: string): Promise<TApiKey[]>;
  /** Revokes one of the owner's keys; another user's key is NOT_FOUND, as if it did not exist. */
  revokeOwn(actor: Actor, ownerId: string, keyId: string): Promise<void>;
  /** Every user's keys (or one user's), newest first, with their owner. */
  listAll(input: PageRequest & { userId?: string | undefined }): Promise<TAdminApiKeyList>;
  /** Revokes any key (admins). */
  revokeAny(actor: Actor, keyId: string): Promise<void>;
  /** Revokes every key of a user (deactivation); each one is audited with `reason`. */
  revokeAllOf(actor: Actor, userId: string, reason: string): Promise<number>;
  /**
   * The owner of a presented key, loaded fresh, and the key; the same UNAUTHORIZED for a malformed,
   * unknown, revoked or expired key or a deactivated owner. Records the use (see `recordUse`).
   */
  authenticate(key: string, device: KeyUseDevice): Promise<{ user: AuthenticatedUser; key: UsedApiKey }>;
  /**
   * The owner's id when `key` is a key the server issued (its secret checked), for counting the request
   * against the owner before it is routed. Owners are remembered for a few minutes, so it may name the owner
   * of a key revoked meanwhile: it decides only whose budget a request spends, never whether it is allowed.
   */
  ownerOf(key: string): Promise<string | undefined>;
}

export interface ApiKeyDeps {
  keys: ApiKeyModel;
  users: UserModel;
  accounts: AccountReader;
  audit: AuditLog;
  /** The HMAC key secrets are hashed with (derived from the server secret for this one purpose). */
  pepper: Buffer;
  maxPerUser: number;
}

type StoredKey = ApiKeyRecord & { _id: Types.ObjectId; createdAt: Date };

/** A key's last-use time is written at most this often, so a busy key costs no write per request. */
const LAST_USE_INTERVAL_MS = 60_000;
/** Client addresses remembered per key; an address pushed out and seen again is audited again. */
const ADDRESSES_REMEMBERED = 20;
const INVALID_KEY = 'The access token is invalid or expired';
const OWNERS_REMEMBERED = 10_000;
const OWNER_MEMORY_MS = 5 * 60_000;

function view(record: StoredKey): TApiKey {
  return {
    id: record._id.toHexString(),
    name: record.name,
    prefix: displayPrefixOf(record.publicId),
    scopes: [...record.scopes] as TApiKeyScope[],
    createdAt: record.createdAt.toISOString(),
    expiresAt: record.expiresAt ? record.expiresAt.toISOString() : null,
    lastUsedAt: record.lastUsedAt ? record.lastUsedAt.toISOString() : null,
    lastUsedIp: record.lastUsedIp ?? null,
  };
}

const labelOf = (record: Pick<StoredKey, 'name' | 'publicId'>): string =>
  `${record.name} (${displayPrefixOf(record.publicId)})`;

/** Keys still usable now: not expired (the TTL index removes expired ones only every minute or so). */
const unexpired = (): QueryFilter<ApiKeyRecord> => ({
  $or: [{ expiresAt: null }, { expiresAt: { $gt: new Date() } }],
});

export function createApiKeyService(deps: ApiKeyDeps): ApiKeyService {
  const { keys, users, accounts, audit, pepper } = deps;
  const turns = new KeyedSerializer();
  // Compared against when the public id is unknown, so that answer takes the same work as a wrong secret.
  const decoyHash = hashApiKeySecret('decoy', pepper);
  const owners = new LRUCache<string, { userId: string; secretHash: string }>({
    max: OWNERS_REMEMBERED,
    ttl: OWNER_MEMORY_MS,
  });

  async function revoke(actor: Actor, record: StoredKey, reason: string): Promise<boolean> {
    const deleted = await keys.deleteOne({ _id: record._id });
    if (deleted.deletedCount !== 1) return false;
    await audit.record({
      action: 'api_key.revoked',
      actor,
      target: { type: 'api_key', id: record._id.toHexString(), label: labelOf(record) },
      details: { ownerId: record.userId.toHexString(), reason },
    });
    return true;
  }

  async function find(filter: QueryFilter<ApiKeyRecord>): Promise<StoredKey> {
    const record = await keys.findOne(filter).lean<StoredKey>();
    if (!record) throw new NotFound('No such API key');
    return record;
  }

  /**
   * The last use is written only when the stored one is a minute old, by a write that applies only then
   * (so instances racing write once); a client address the key has not been used from before is added to
   * its bounded list by a write that applies only if it is still missing, and audited by the one that won.
   */
  async function recordUse(record: StoredKey, owner: Actor, device: KeyUseDevice): Promise<void> {
    const now = new Date();
    const used = { lastUsedAt: now, lastUsedIp: device.ip };
    if (!record.addresses.includes(device.addressKey)) {
      const added = await keys.updateOne(
        { _id: record._id, addresses: { $ne: device.addressKey } },
        {
          $set: used,
          $push: { addresses: { $each: [device.addressKey], $slice: -ADDRESSES_REMEMBERED } },
        },
      );
      if (added.modifiedCount === 1)
        await audit.record({
          action: 'api_key.new_address',
          actor: owner,
          target: { type: 'api_key', id: record._id.toHexString(), label: labelOf(record) },
          details: { address: device.addressKey },
        });
      return;
    }
    const staleBefore = new Date(now.getTime() - LAST_USE_INTERVAL_MS);
    if (record.lastUsedAt && record.lastUsedAt > staleBefore) return;
    await keys.updateOne(
      { _id: record._id, $or: [{ lastUsedAt: null }, { lastUsedAt: { $lte: staleBefore } }] },
      { $set: used },
    );
  }

  return {
    create(actor, ownerId, input) {
      return turns.run(ownerId, async () => {
        const owner = new Types.ObjectId(ownerId);
        const held = await keys.countDocuments({ userId: owner, ...unexpired() });
        if (held >= deps.maxPerUser)
          throw new DomainError(
            'QUOTA_EXCEEDED',
            `You have ${held} API keys, the most an account may hold (${deps.maxPerUser}); revoke one first`,
          );
        const { key, publicId, secret } = newApiKey();
        const created = await keys.create({
          userId: owner,
          name: input.name,
          publicId,
          secretHash: hashApiKeySecret(secret, pepper),
          scopes: input.scopes,
          expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
        });
        const record = created.toObject() as StoredKey;
        await audit.record({
          action: 'api_key.created',
          actor,
          target: { type: 'api_key', id: record._id.toHexString(), label: labelOf(record) },
          details: { ownerId, scopes: input.scopes, expiresAt: input.expiresAt ?? null },
        });
        return { ...view(record), key };
      });
    },

    async listOwn(ownerId) {
      const found = await keys
        .find({ userId: new Types.ObjectId(ownerId), ...unexpired() })
        .sort({ createdAt: -1, _id: -1 })
        .lean<StoredKey[]>();
      return found.map(view);
    },

    async revokeOwn(actor, ownerId, keyId) {
      const record = await find({ _id: keyId, userId: new Types.ObjectId(ownerId) });
      if (!(await revoke(actor, record, 'revoked by its owner'))) throw new NotFound('No such API key');
    },

    async listAll({ userId, page, limit }) {
      const filter: QueryFilter<ApiKeyRecord> = userId ? { userId: new Types.ObjectId(userId) } : {};
      const [total, found] = await Promise.all([
        keys.countDocuments(filter),
        onPage(keys.find(filter).sort({ createdAt: -1, _id: -1 }), { page, limit }).lean<StoredKey[]>(),
      ]);
      const owners = await users
        .find(
          { _id: { $in: [...new Set(found.map((record) => record.userId.toHexString()))] } },
          { email: 1 },
        )
        .lean();
      const emailOf = new Map(owners.map((owner) => [owner._id.toHexString(), owner.email]));
      const viewed = found.map((record): TAdminApiKey => ({
        ...view(record),
        ownerId: record.userId.toHexString(),
        ownerEmail: emailOf.get(record.userId.toHexString()) ?? null,
      }));
      return { keys: viewed, pagination: paginationOf({ page, limit }, total) };
    },

    async revokeAny(actor, keyId) {
      const record = await find({ _id: keyId });
      if (!(await revoke(actor, record, 'revoked by an admin'))) throw new NotFound('No such API key');
    },

    async revokeAllOf(actor, userId, reason) {
      const found = await keys.find({ userId: new Types.ObjectId(userId) }).lean<StoredKey[]>();
      let revoked = 0;
      for (const record of found) if (await revoke(actor, record, reason)) revoked += 1;
      return revoked;
    },

    async ownerOf(presented) {
      const parsed = parseApiKey(presented);
      if (!parsed) return undefined;
      let known = owners.get(parsed.publicId);
      if (!known) {
        const record = await keys.findOne({ publicId: parsed.publicId }, { userId: 1, secretHash: 1 }).lean();
        if (!record) return undefined;
        known = { userId: record.userId.toHexString(), secretHash: record.secretHash };
        owners.set(parsed.publicId, known);
      }
      // Whoever knows only a key's public prefix cannot spend its owner's budget.
      return secretMatches(parsed.secret, known.secretHash, pepper) ? known.userId : undefined;
    },

    async authenticate(presented, device) {
      const parsed = parseApiKey(presented);
      if (!parsed) throw new Unauthorized(INVALID_KEY);
      const record = await keys.findOne({ publicId: parsed.publicId }).lean<StoredKey>();
      const matches = secretMatches(parsed.secret, record?.secretHash ?? decoyHash, pepper);
      if (!record || !matches || (record.expiresAt && record.expiresAt.getTime() <= Date.now()))
        throw new Unauthorized(INVALID_KEY);
      const account = await accounts.byId(record.userId.toHexString());
      if (!account || !account.active) throw new Unauthorized(INVALID_KEY);
      // A key carries none of its owner's staff roles.
      const roles: TRole[] = ['user'];
      const me = { ...toMe(account), roles };
      const owner: Actor = {
        userId: me.id,
        email: me.email,
        via: 'api',
        ip: device.ip,
        userAgent: device.userAgent ?? null,
      };
      await recordUse(record, owner, device);
      return {
        user: { id: me.id, email: me.email, roles, account: me },
        key: { id: record._id.toHexString(), scopes: [...record.scopes] as TApiKeyScope[] },
      };
    },
  };
}
