import type { TAssetFormat } from '@gen3d/shared';

export type ImageMediaType = 'image/png' | 'image/jpeg' | 'image/webp';
/** An input image, already decoded, checked and re-encoded by the server (metadata stripped). */
export interface ModelImage {
  bytes: Uint8Array;
  mediaType: ImageMediaType;
  width: number;
  height: number;
}

/** What a job asks a model server for. */
export interface ModelRequest {
  /** Text, an image, or both; at least one. */
  prompt?: string | undefined;
  image?: ModelImage | undefined;
  seed: number;
  quality: 'draft' | 'standard' | 'high';
  /** Files wanted; `obj` brings its `mtl`. */
  formats: Array<'glb' | 'obj' | 'ply'>;
  guidanceScale?: number | undefined;
  steps?: number | undefined;
  frameSize?: number | undefined;
}

export interface ModelFile {
  format: TAssetFormat;
  bytes: Uint8Array;
}

/**
 * A remote task as the job sees it. A finished task carries its files, already copied: some contracts hand
 * them over only in the status answer (Hunyuan3D) or behind links that expire (Meshy).
 */
export type RemoteStatus =
  | { state: 'queued' | 'running'; /** 0-100. */ progress: number }
  | { state: 'succeeded'; files: ModelFile[] }
  | { state: 'failed' | 'canceled'; /** Why, in the server's words. */ message?: string | undefined };

/** What a model server said when asked whether it is up. */
export interface ModelServerCheck {
  /** What the server says it is, when it says. */
  detail?: string | undefined;
  /** Credits left on a paid API's account. */
  credits?: number | undefined;
}

/** One contract of a text-to-3D server, spoken over HTTP. */
export interface ModelServer {
  /** The name jobs select it by (`params.modelServer`). */
  readonly name: string;
  /** What the contract takes. */
  readonly inputs: { text: boolean; image: boolean };
  /** The longest a task may run on this server; for contracts whose servers never report a failure. */
  readonly taskDeadlineMs?: number | undefined;
  /** Starts a task; answers its id (a synchronous contract answers only when the task is done). */
  submit(request: ModelRequest, signal: AbortSignal): Promise<string>;
  /** The task's state; once it succeeded, its files: some of the requested formats, or at least a GLB. */
  poll(taskId: string, request: ModelRequest, signal: AbortSignal): Promise<RemoteStatus>;
  /** Asks the server to stop (or forget) a task; best effort, never throws. */
  cancel(taskId: string): Promise<void>;
  /** Asks whether the server is up, starting no task; throws a ModelServerError when it is not. */
  check(signal: AbortSignal): Promise<ModelServerCheck>;
}

export type ModelErrorCode =
  | 'MODEL_SERVER_UNREACHABLE'
  | 'MODEL_SERVER_TIMEOUT'
  | 'MODEL_SERVER_ERROR'
  | 'MODEL_SERVER_REJECTED'
  | 'MODEL_SERVER_RATE_LIMITED'
  | 'MODEL_SERVER_BAD_RESPONSE'
  | 'GENERATION_FAILED'
  | 'OUTPUT_INVALID'
  | 'UNKNOWN_MODEL_SERVER';

/** What an HTTP error answer said, for adapters that read their contract's error bodies. */
export interface HttpFailure {
  status: number;
  /** The start of the body, as text. */
  body: string;
}

/** A failed model-server call, classified: retryable failures are worth another attempt. */
export class ModelServerError extends Error {
  readonly code: ModelErrorCode;
  readonly retryable: boolean;
  readonly http: HttpFailure | undefined;

  constructor(code: ModelErrorCode, message: string, retryable: boolean, http?: HttpFailure) {
    super(message);
    this.name = 'ModelServerError';
    this.code = code;
    this.retryable = retryable;
    this.http = http;
  }
}

/** Files a request needs, by format. */
export function wantedFormats(request: Pick<ModelRequest, 'formats'>): TAssetFormat[] {
  const formats = new Set<TAssetFormat>(request.formats);
  if (formats.has('obj')) formats.add('mtl');
  return [...formats];
}
