// A browser page's script, typechecked with the DOM library and without Node's types.
import { createGen3dClient, Gen3dError, webStorageTokenStore } from '@gen3d/client';

const gen3d = createGen3dClient({ url: location.origin, tokens: webStorageTokenStore(localStorage) });
const output = document.createElement('ol');
document.body.append(output);

export async function generateInto(prompt: string, signal: AbortSignal): Promise<void> {
  try {
    const { assets } = await gen3d.generate(prompt, {
      signal,
      onProgress: (job) => (output.dataset.progress = String(job.progress)),
    });
    for (const asset of assets)
      output.append(Object.assign(document.createElement('li'), { textContent: asset.url }));
  } catch (error) {
    if (error instanceof Gen3dError) output.dataset.error = `${error.code}: ${error.message}`;
    else throw error;
  }
}
