import type { JobRecord } from '../../jobs/job-model.js';
import type { AttachmentRecord } from '../assets/attachment-schema.js';
import type { MessageService } from '../messages/service.js';

const PLAIN_WORDS: Record<string, string> = {
  MODEL_SERVER_UNREACHABLE:
    'The 3D model server could not be reached, so no model was made. Please try again in a few minutes.',
  MODEL_SERVER_TIMEOUT: 'The 3D model server stopped answering before the model was ready. Please try again.',
  JOB_TIMEOUT:
    'Making this model took longer than allowed, so it was stopped. A simpler prompt or a lower quality may help.',
  MODEL_SERVER_ERROR:
    'The 3D model server ran into an error while making this model. Please try again later.',
  MODEL_SERVER_REJECTED:
    'The 3D model server refused this request. Try rephrasing the prompt or changing the options.',
  MODEL_SERVER_BAD_RESPONSE:
    'The 3D model server answered with something unreadable. Please try again later.',
  GENERATION_FAILED: 'The 3D model server could not turn this prompt into a model. Try rephrasing it.',
  OUTPUT_INVALID: 'The 3D model server sent back a broken file, so it was not kept. Please try again.',
  UNKNOWN_MODEL_SERVER: 'The model server chosen for this job is not available on this backend.',
  WORKER_LOST: 'The server working on this model stopped unexpectedly, several times. Please try again.',
};

/** The assistant's answer when a job ends: the model's files, or what went wrong in plain words. */
export function createOutcomeMessages(messages: MessageService) {
  return async function announce(job: JobRecord): Promise<void> {
    if (!job.chatId || (job.status !== 'succeeded' && job.status !== 'failed')) return;
    const common = { chatId: job.chatId, ownerId: job.ownerId, role: 'assistant' as const, jobId: job._id };
    if (job.status === 'succeeded') {
      const outputs = job.outputs as AttachmentRecord[];
      const formats = outputs.map((output) => output.format.toUpperCase()).join(', ');
      await messages.append({
        ...common,
        type: 'model',
        content: `Here is your model for "${job.prompt}" (${formats}).`,
        attachments: outputs,
      });
      return;
    }
    const code = job.error?.code ?? 'INTERNAL';
    const explanation =
      PLAIN_WORDS[code] ?? `Something went wrong while making this model (error ${code}). Please try again.`;
    await messages.append({ ...common, type: 'text', content: explanation, attachments: [] });
  };
}
