import { Types } from 'mongoose';
import type { z } from 'zod';

import type { TAsset, ZRegisterAssetInput } from '@gen3d/shared';

import { BadRequest, NotFound } from '../../domain-errors.js';
import { AddressRefusedError } from '../../infra/public-addresses.js';
import type { MeshPool } from '../../meshes/mesh-pool.js';
import { InvalidMeshError } from '../../meshes/mesh-stats.js';
import { ModelServerError } from '../../model-servers/model-server.js';
import type { Actor, AuditLog } from '../audit/audit-log.js';
import type { ChatService } from '../chats/service.js';
import type { GenerationService } from '../generation/service.js';
import type { StoredObjectCaps } from '../quotas/stored-object-caps.js';
import type { UserModel } from '../users/model.js';
import type { AssetService } from './service.js';

export interface AssetRegistrationDeps {
  assets: AssetService;
  users: UserModel;
  chats: ChatService;
  generation: GenerationService;
  /** Fetches a file from a URL (size limits and deadlines of the model-server client; public addresses only). */
  download(url: string, signal: AbortSignal): Promise<Uint8Array>;
  meshes: MeshPool;
  audit: AuditLog;
  caps: StoredObjectCaps;
}

export interface AssetRegistration {
  /** Checks a file like any model output and stores it as an asset of the user (the caller by default). */
  register(actor: Actor, input: z.output<typeof ZRegisterAssetInput>): Promise<TAsset>;
}

const DOWNLOAD_DEADLINE_MS = 60_000;

function sourceWithoutQuery(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

export function createAssetRegistration(deps: AssetRegistrationDeps): AssetRegistration {
  async function bytesOf(input: z.output<typeof ZRegisterAssetInput>): Promise<Uint8Array> {
    if (input.data !== undefined) return new Uint8Array(Buffer.from(input.data, 'base64'));
    try {
      return await deps.download(input.sourceUrl as string, AbortSignal.timeout(DOWNLOAD_DEADLINE_MS));
    } catch (error) {
      if (error instanceof AddressRefusedError) {
        throw new BadRequest(
          `sourceUrl is refused: ${error.message}; files are fetched from public addresses only, unless ASSET_SOURCE_ALLOWED_HOSTS names the host`,
          [{ path: 'sourceUrl', message: `not a public address (${error.range})` }],
        );
      }
      const reason =
        error instanceof ModelServerError
          ? error.message.replace('The model server', 'The source')
          : 'The download did not finish in time';
      throw new BadRequest(`sourceUrl could not be downloaded: ${reason}`, [
        { path: 'sourceUrl', message: 'download failed' },
      ]);
    }
  }

  return {
    async register(actor, input) {
      const ownerId = input.userId ?? actor.userId ?? '';
      if (!(await deps.users.exists({ _id: new Types.ObjectId(ownerId) })))
        throw new NotFound('User not found');
      const chat = input.chatId ? await deps.chats.owned(ownerId, input.chatId) : undefined;
      const job = input.jobId ? await deps.generation.get(ownerId, input.jobId) : undefined;
      const bytes = await bytesOf(input);
      try {
        const checked = await deps.meshes.check(input.format, bytes);
        const [record] = await deps.caps.withRoomForAssetBytes(ownerId, bytes.byteLength, () =>
          deps.assets.store(
            {
              ownerId: new Types.ObjectId(ownerId),
              jobId: job ? new Types.ObjectId(job.id) : null,
              chatId: chat?._id ?? (job?.chatId ? new Types.ObjectId(job.chatId) : null),
            },
            [checked],
          ),
        );
        const asset = deps.assets.view(record as NonNullable<typeof record>);
        await deps.audit.record({
          action: 'asset.registered',
          actor,
          target: { type: 'asset', id: asset.id, label: `${asset.format} ${asset.fileName}` },
          changes: {
            before: {},
            after: {
              ownerId,
              format: asset.format,
              bytes: asset.bytes,
              sha256: asset.sha256,
              jobId: asset.jobId,
              chatId: asset.chatId,
            },
          },
          // A source URL's query may hold a signature: only its origin and path are kept.
          details: {
            source: input.data !== undefined ? 'upload' : sourceWithoutQuery(input.sourceUrl as string),
          },
        });
        return asset;
      } catch (error) {
        if (error instanceof InvalidMeshError)
          throw new BadRequest(error.message, [
            { path: input.data !== undefined ? 'data' : 'sourceUrl', message: error.message },
          ]);
        throw error;
      }
    },
  };
}
