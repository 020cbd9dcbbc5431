import type { JobRecord } from '../../jobs/job-model.js';
import type { AttachmentRecord } from '../assets/attachment-schema.js';
import type { MessageService } from '../messages/service.js';
import { plainFailureMessage } from './failure-messages.js';

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
        content: outcomeText(job, formats),
        attachments: outputs,
      });
      return;
    }
    const explanation = plainFailureMessage(job.error?.code ?? 'INTERNAL');
    await messages.append({ ...common, type: 'text', content: explanation, attachments: [] });
  };
}

const DONE: Record<string, string> = {
  simplify: 'simplified',
  weld: 'welded',
  recenter: 're-centred and unit-sized',
  convert: 'converted',
};

/** The answer's words: a generation's model, or the post-processed one. */
function outcomeText(job: JobRecord, formats: string): string {
  const done = DONE[job.kind ?? 'generate'];
  if (done) return `Here is your ${done} model of "${job.prompt}" (${formats}).`;
  return job.prompt
    ? `Here is your model for "${job.prompt}" (${formats}).`
    : `Here is your model made from your image (${formats}).`;
}
