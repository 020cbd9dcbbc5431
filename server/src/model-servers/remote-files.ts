import type { TMeshFormat } from '@gen3d/shared';

import type { ModelHttpClient } from './http-client.js';
import { ModelServerError, wantedFormats, type ModelFile, type ModelRequest } from './model-server.js';

/**
 * Copies a finished task's files: the requested formats the server offers, and its GLB when a requested
 * format is missing (the others are derived from it). `urlOf` answers undefined for a format the server
 * does not offer; a 404 on an offered format counts as not offered.
 */
export async function downloadResultFiles(
  http: ModelHttpClient,
  request: ModelRequest,
  urlOf: (format: TMeshFormat) => string | undefined,
  signal: AbortSignal,
): Promise<ModelFile[]> {
  const fetchFormat = async (format: TMeshFormat): Promise<ModelFile | undefined> => {
    const url = urlOf(format);
    if (!url) return undefined;
    try {
      return { format, bytes: await http.download(url, signal) };
    } catch (error) {
      if (error instanceof ModelServerError && error.http?.status === 404) return undefined;
      throw error;
    }
  };
  const wanted = wantedFormats(request);
  const files = (await Promise.all(wanted.map(fetchFormat))).filter(
    (file): file is ModelFile => file !== undefined,
  );
  const missing = wanted.some((format) => !files.some((file) => file.format === format));
  if (missing && !files.some((file) => file.format === 'glb')) {
    const glb = await fetchFormat('glb');
    if (glb) files.push(glb);
  }
  if (files.length === 0)
    throw new ModelServerError(
      'MODEL_SERVER_BAD_RESPONSE',
      'The model server offers none of the requested files, nor a GLB to derive them from',
      true,
    );
  return files;
}
