import { PostprocessKinds } from '@gen3d/shared';

/**
 * The jobs whose prompt a user wrote, as popular prompts count them: not an image-only job's empty prompt,
 * nor the source's prompt a post-processing job repeats.
 */
export const WRITTEN_PROMPT = { prompt: { $ne: '' }, kind: { $nin: PostprocessKinds } } as const;

export function hasWrittenPrompt(job: { prompt: string; kind?: string | null | undefined }): boolean {
  return job.prompt !== '' && !(PostprocessKinds as readonly string[]).includes(job.kind ?? 'generate');
}
