import { hostname, userInfo } from 'node:os';

import type { FastifyBaseLogger } from 'fastify';
import type { QueryFilter } from 'mongoose';
import type { z } from 'zod';

import type { TAuditAction, TAuditEvent, TAuditList, ZListAuditInput } from '@gen3d/shared';

import { onPage, paginationOf } from '../../db/paging.js';
import type { AuthenticatedUser } from '../auth/session-service.js';
import type { AuditEventModel, AuditEventRecord } from './model.js';

/** Who performs an action, and from where. */
export interface Actor {
  /** The acting account; null for a script or an anonymous request. */
  userId: string | null;
  email: string | null;
  via: 'api' | 'cli';
  ip: string | null;
  userAgent: string | null;
}

/** A signed-in caller: who sees the answer, and who the audit log names. */
export interface Caller {
  user: AuthenticatedUser;
  actor: Actor;
}

export interface AuditEntry {
  action: TAuditAction;
  actor: Actor;
  target: { type: TAuditEvent['target']['type']; id: string; label?: string | null | undefined };
  changes?: { before: Record<string, unknown>; after: Record<string, unknown> } | undefined;
  details?: Record<string, unknown> | undefined;
}

export interface AuditLog {
  /** Appends one event. The action it records already happened, so a failed write is logged, never thrown. */
  record(entry: AuditEntry): Promise<void>;
  /** Events newest first, filtered and paginated. */
  list(input: z.output<typeof ZListAuditInput>): Promise<TAuditList>;
}

/** The actor of a request made without signing in, named by where it came from. */
export function anonymousActor(device: { ip: string; userAgent: string | undefined }): Actor {
  return { userId: null, email: null, via: 'api', ip: device.ip, userAgent: device.userAgent ?? null };
}

/** The actor of a command-line script: the operating-system account that ran it. */
export function scriptActor(script: string): Actor {
  return {
    userId: null,
    email: null,
    via: 'cli',
    ip: null,
    userAgent: `${script} (${userInfo().username}@${hostname()})`,
  };
}

function view(record: AuditEventRecord & { _id: { toHexString(): string } }): TAuditEvent {
  return {
    id: record._id.toHexString(),
    action: record.action as TAuditAction,
    at: record.at.toISOString(),
    actor: {
      userId: record.actor?.userId ? String(record.actor.userId) : null,
      email: record.actor?.email ?? null,
      via: (record.actor?.via ?? 'api') as 'api' | 'cli',
    },
    target: {
      type: record.target?.type as TAuditEvent['target']['type'],
      id: record.target?.id ?? '',
      label: record.target?.label ?? null,
    },
    ip: record.ip ?? null,
    userAgent: record.userAgent ?? null,
    changes: (record.changes as TAuditEvent['changes']) ?? null,
    details: (record.details as TAuditEvent['details']) ?? null,
  };
}

export function createAuditLog(events: AuditEventModel, log: FastifyBaseLogger): AuditLog {
  return {
    async record({ action, actor, target, changes, details }) {
      try {
        await events.create({
          action,
          at: new Date(),
          actor: { userId: actor.userId, email: actor.email, via: actor.via },
          target: { type: target.type, id: target.id, label: target.label ?? null },
          ip: actor.ip,
          userAgent: actor.userAgent?.slice(0, 300) ?? null,
          changes: changes ?? null,
          details: details ?? null,
        });
      } catch (error) {
        log.error({ err: error, action, targetId: target.id }, 'writing an audit event failed');
      }
    },

    async list({ page, limit, action, actorId, targetId, targetType, from, to }) {
      const filter: QueryFilter<AuditEventRecord> = {
        ...(action ? { action } : {}),
        ...(actorId ? { 'actor.userId': actorId } : {}),
        ...(targetId ? { 'target.id': targetId } : {}),
        ...(targetType ? { 'target.type': targetType } : {}),
        ...(from || to
          ? { at: { ...(from ? { $gte: new Date(from) } : {}), ...(to ? { $lt: new Date(to) } : {}) } }
          : {}),
      };
      const [total, found] = await Promise.all([
        events.countDocuments(filter),
        onPage(events.find(filter).sort({ at: -1, _id: -1 }), { page, limit }).lean(),
      ]);
      return { events: found.map(view), pagination: paginationOf({ page, limit }, total) };
    },
  };
}
