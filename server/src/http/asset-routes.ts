import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import parseRange from 'range-parser';

import type { AssetService } from '../modules/assets/service.js';
import type { AssetStorage } from '../storage/asset-storage.js';
import type { AssetUrlSigner } from '../storage/signed-urls.js';
import { restError, sendRestError } from './error-responses.js';

export interface AssetRoutesOptions {
  assets: AssetService;
  storage: AssetStorage;
  signer: AssetUrlSigner;
}

/**
 * If-None-Match with RFC 9110's weak comparison. Evaluated here, at the origin, whatever the request's
 * Cache-Control says (fetch adds `no-cache` to conditional requests; that directive is for caches).
 */
function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const opaque = (tag: string): string => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => opaque(tag) === opaque(etag));
}

interface AssetRequest {
  Params: { assetId: string; fileName: string };
  Querystring: { expires?: string; sig?: string };
}

/**
 * `GET /assets/:assetId/:fileName?expires&sig`: the file behind a signed URL, with its content type, a
 * strong ETag (its SHA-256), conditional requests, byte ranges and private caching until the URL expires.
 * The path only names the asset; where its bytes live comes from the database.
 */
export async function assetRoutes(
  app: FastifyInstance,
  { assets, storage, signer }: AssetRoutesOptions,
): Promise<void> {
  async function serve(request: FastifyRequest<AssetRequest>, reply: FastifyReply): Promise<unknown> {
    const { assetId, fileName } = request.params;
    const requestId = String(request.id);
    const check = signer.check(assetId, fileName, request.query.expires, request.query.sig);
    if (check === 'invalid')
      return sendRestError(
        reply,
        restError('ASSET_URL_INVALID', 'This asset URL is not valid; ask the API for a fresh one', requestId),
      );
    if (check === 'expired')
      return sendRestError(
        reply,
        restError('ASSET_URL_EXPIRED', 'This asset URL has expired; ask the API for a fresh one', requestId),
      );
    const asset = await assets.forDownload(assetId, fileName);
    if (!asset) return sendRestError(reply, restError('NOT_FOUND', 'This asset no longer exists', requestId));

    const etag = `"${asset.sha256}"`;
    const secondsLeft = Math.max(0, Number(request.query.expires) - Math.floor(Date.now() / 1000));
    void reply
      .header('content-type', asset.contentType)
      .header('etag', etag)
      .header('last-modified', asset.createdAt.toUTCString())
      .header('cache-control', `private, max-age=${secondsLeft}, immutable`)
      .header('accept-ranges', 'bytes')
      .header('content-disposition', `inline; filename="${asset.fileName}"`);
    if (matchesIfNoneMatch(request.headers['if-none-match'], etag)) return reply.code(304).send();

    const rangeHeader = request.headers.range;
    // A Range is honoured only while the client's copy is this one (If-Range), as RFC 9110 asks.
    const ifRange = request.headers['if-range'];
    const ranges =
      rangeHeader && (!ifRange || ifRange === etag)
        ? parseRange(asset.bytes, rangeHeader, { combine: true })
        : undefined;
    if (ranges === -1) {
      void reply.type('application/json').header('content-range', `bytes */${asset.bytes}`);
      return sendRestError(
        reply,
        restError(
          'RANGE_NOT_SATISFIABLE',
          `The file has ${asset.bytes} bytes; the requested range is outside it`,
          requestId,
        ),
      );
    }
    const range =
      Array.isArray(ranges) && ranges.type === 'bytes' && ranges.length === 1 ? ranges[0] : undefined;
    if (range) {
      void reply
        .code(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${asset.bytes}`)
        .header('content-length', range.end - range.start + 1);
      return request.method === 'HEAD'
        ? reply.send()
        : reply.send(await storage.read(asset.storageKey, range));
    }
    void reply.header('content-length', asset.bytes);
    return request.method === 'HEAD' ? reply.send() : reply.send(await storage.read(asset.storageKey));
  }

  app.get<AssetRequest>('/assets/:assetId/:fileName', serve);
}
