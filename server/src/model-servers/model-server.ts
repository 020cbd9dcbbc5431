import type { TAssetFormat } from '@gen3d/shared';

/** What a job asks a model server for. */
export interface ModelRequest {
  prompt: string;
  seed: number;
  quality: 'draft' | 'standard' | 'high';
  /** Files wanted; `obj` brings its `mtl`. */
  formats: Array<'glb' | 'obj' | 'ply'>;
  guidanceScale?: number | undefined;
  steps?: number | undefined;
  frameSize?: number | undefined;
}

export type RemoteState = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';

export interface RemoteProgress {
  state: RemoteState;
  /** 0-100. */
  progress: number;
  /** Why a failed task failed, in the server's words. */
  message?: string | undefined;
}

export interface ModelFile {
  format: TAssetFormat;
  bytes: Uint8Array;
}

/** One contract of a text-to-3D server, spoken over HTTP. */
export interface ModelServer {
  /** The name jobs select it by (`params.modelServer`). */
  readonly name: string;
  /** Starts a task; answers its id. */
  submit(request: ModelRequest, signal: AbortSignal): Promise<string>;
  progress(taskId: string, signal: AbortSignal): Promise<RemoteProgress>;
  /** The finished task's files in the requested formats (copied: the backend owns them afterwards). */
  resultFiles(taskId: string, request: ModelRequest, signal: AbortSignal): Promise<ModelFile[]>;
  /** Asks the server to stop a task; best effort, never throws. */
  cancel(taskId: string): Promise<void>;
  health(signal: AbortSignal): Promise<boolean>;
}

export const ModelErrorCodes = [
  'MODEL_SERVER_UNREACHABLE',
  'MODEL_SERVER_TIMEOUT',
  'MODEL_SERVER_ERROR',
  'MODEL_SERVER_REJECTED',
  'MODEL_SERVER_BAD_RESPONSE',
  'GENERATION_FAILED',
  'OUTPUT_INVALID',
  'UNKNOWN_MODEL_SERVER',
] as const;
export type ModelErrorCode = (typeof ModelErrorCodes)[number];

/** A failed model-server call, classified: retryable failures are worth another attempt. */
export class ModelServerError extends Error {
  readonly code: ModelErrorCode;
  readonly retryable: boolean;

  constructor(code: ModelErrorCode, message: string, retryable: boolean) {
    super(message);
    this.name = 'ModelServerError';
    this.code = code;
    this.retryable = retryable;
  }
}

/** Files a request needs, by format. */
export function wantedFormats(request: Pick<ModelRequest, 'formats'>): TAssetFormat[] {
  const formats = new Set<TAssetFormat>(request.formats);
  if (formats.has('obj')) formats.add('mtl');
  return [...formats];
}
