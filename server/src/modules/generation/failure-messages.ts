/**
 * What each failure code means, in words a user can act on. These are what users read (`job.error.message`,
 * the chat's answer, `/api/generate`'s error): never a host, a port, a URL or a model server's own answer,
 * which go to the log with the job id and the id of the request that queued it.
 */
const PLAIN_WORDS: Record<string, string> = {
  INTERNAL: 'Something went wrong while making this model. Please try again.',
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
  INPUT_IMAGE_MISSING: 'The image this job was made from was deleted before the model was made.',
  WORKER_LOST: 'The server working on this model stopped unexpectedly, several times. Please try again.',
  POSTPROCESS_FAILED:
    'This model could not be processed that way (the result was not a usable model), so nothing was kept.',
  SOURCE_MISSING: 'The model to process was deleted before the job ran, so nothing was made.',
};

/** The plain message of a failure code; a generic one (naming the code) for codes without their own. */
export function plainFailureMessage(code: string): string {
  return (
    PLAIN_WORDS[code] ?? `Something went wrong while making this model (error ${code}). Please try again.`
  );
}
