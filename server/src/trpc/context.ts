import type { CreateFastifyContextOptions } from '@trpc/server/adapters/fastify';
import type { FastifyBaseLogger } from 'fastify';

import { addressKey } from '../infra/address-key.js';
import type { AppServices } from '../services.js';

/** What every procedure sees: who is calling, from where, and the services. */
export interface RequestContext {
  requestId: string;
  ip: string;
  /** What per-address limits count the client as: its IPv4 address, or its IPv6 /64. */
  addressKey: string;
  userAgent: string | undefined;
  authorization: string | undefined;
  /** The `Idempotency-Key` header, for procedures that honour one. */
  idempotencyKey: string | undefined;
  log: FastifyBaseLogger;
  services: AppServices;
}

/** The same context for tRPC calls and their REST projection (both hand over the Fastify request). */
export function createContextFactory(services: AppServices) {
  return ({ req }: Pick<CreateFastifyContextOptions, 'req'>): RequestContext => ({
    requestId: String(req.id),
    ip: req.ip,
    addressKey: addressKey(req.ip),
    userAgent: req.headers['user-agent'],
    authorization: req.headers.authorization,
    idempotencyKey:
      typeof req.headers['idempotency-key'] === 'string'
        ? req.headers['idempotency-key'].slice(0, 200)
        : undefined,
    log: req.log,
    services,
  });
}
