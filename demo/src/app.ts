// The demo page's script, bundled by build.js (esbuild) with @gen3d/client and <model-viewer>.
import '@google/model-viewer';

import { createGen3dClient, toGen3dError, webStorageTokenStore } from '@gen3d/client';

import { queueStatus } from './queue-status.js';

const sessionClient = createGen3dClient({
  url: location.origin,
  tokens: webStorageTokenStore(localStorage),
});
// The session's client, or one calling with a pasted API key (kept in memory only, never stored).
let client = sessionClient;

const element = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const account = element<HTMLElement>('account');
const studio = element<HTMLElement>('studio');
const notice = element<HTMLParagraphElement>('notice');
const logout = element<HTMLButtonElement>('logout');
const registerForm = element<HTMLFormElement>('register-form');
const verifyForm = element<HTMLFormElement>('verify-form');
const loginForm = element<HTMLFormElement>('login-form');
const keyForm = element<HTMLFormElement>('key-form');
const promptForm = element<HTMLFormElement>('prompt-form');
const imageInput = element<HTMLInputElement>('image-input');
const imagePreview = element<HTMLImageElement>('image-preview');
const progress = element<HTMLProgressElement>('progress');
const jobStatus = element<HTMLParagraphElement>('job-status');
const jobQueue = element<HTMLParagraphElement>('job-queue');
const viewer = element<HTMLElement & { src: string | null }>('viewer');
const viewerStatus = element<HTMLParagraphElement>('viewer-status');
const downloads = element<HTMLParagraphElement>('downloads');

const field = (form: HTMLFormElement, name: string): string =>
  String(new FormData(form).get(name) ?? '').trim();
const say = (text: string): void => {
  notice.textContent = text;
};
const sayError = (error: unknown): void => say(toGen3dError(error).message);

function show(signedIn: boolean): void {
  account.hidden = signedIn;
  studio.hidden = !signedIn;
  logout.hidden = !signedIn;
}

/** Runs a form's action with its button disabled, showing any error in plain words. */
function onSubmit(form: HTMLFormElement, action: () => Promise<void>): void {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const button = form.querySelector('button');
    if (button) button.disabled = true;
    say('');
    action()
      .catch(sayError)
      .finally(() => {
        if (button) button.disabled = false;
      });
  });
}

let pending: { email: string; password: string } | undefined;

onSubmit(registerForm, async () => {
  pending = { email: field(registerForm, 'email'), password: field(registerForm, 'password') };
  const answer = await client.auth.register.mutate({
    email: pending.email,
    userName: field(registerForm, 'userName'),
    password: pending.password,
  });
  say(answer.message);
  verifyForm.hidden = false;
});

onSubmit(verifyForm, async () => {
  if (!pending) throw new Error('Register first');
  await client.auth.verifyRegistration.mutate({ email: pending.email, code: field(verifyForm, 'code') });
  await client.login(pending.email, pending.password);
  pending = undefined;
  show(true);
});

onSubmit(loginForm, async () => {
  await client.login(field(loginForm, 'email'), field(loginForm, 'password'));
  show(true);
});

onSubmit(keyForm, async () => {
  const keyClient = createGen3dClient({ url: location.origin, apiKey: field(keyForm, 'apiKey') });
  // A cheap call the key needs anyway (generating follows the job with jobs:read) tells a bad key at once.
  await keyClient.jobs.list.query({ limit: 1 });
  client = keyClient;
  keyForm.reset();
  show(true);
});

// The chosen image is shown before it is sent; its object URL is let go when another is chosen.
imageInput.addEventListener('change', () => {
  if (imagePreview.src) URL.revokeObjectURL(imagePreview.src);
  const file = imageInput.files?.[0];
  imagePreview.hidden = !file;
  if (file) imagePreview.src = URL.createObjectURL(file);
  else imagePreview.removeAttribute('src');
});

onSubmit(promptForm, async () => {
  const prompt = field(promptForm, 'prompt');
  const image = imageInput.files?.[0];
  const modelServer = field(promptForm, 'modelServer');
  if (!prompt && !image) {
    say('Type a prompt, choose an image, or both.');
    return;
  }
  progress.hidden = false;
  progress.value = 0;
  downloads.textContent = '';
  jobStatus.textContent = image ? 'uploading the image…' : '';
  // The server checks the image (format, size, dimensions) and strips its metadata before keeping it.
  const imageAssetId = image ? (await client.uploadImage(image)).id : undefined;
  const input = {
    ...(prompt ? { prompt } : {}),
    ...(imageAssetId ? { imageAssetId } : {}),
  };
  const { assets } = await client.generate(input, {
    ...(modelServer ? { params: { modelServer } } : {}),
    onProgress: (job) => {
      progress.value = job.progress;
      jobStatus.textContent = `${job.status} ${job.progress}%`;
      jobQueue.textContent = queueStatus(job);
    },
  });
  const glb = assets.find((asset) => asset.format === 'glb');
  if (glb) {
    viewerStatus.textContent = 'Loading the model…';
    viewer.src = glb.url;
  }
  for (const asset of assets) {
    const link = document.createElement('a');
    link.href = asset.url;
    link.textContent = asset.format.toUpperCase();
    downloads.append(link);
  }
});

// <model-viewer> fails quietly (an empty canvas); say so, and why, in words.
viewer.addEventListener('load', () => {
  viewerStatus.textContent = '';
});
viewer.addEventListener('error', (event: Event) => {
  const detail = event instanceof CustomEvent ? (event.detail as { sourceError?: unknown } | null) : null;
  const reason = detail?.sourceError instanceof Error ? `: ${detail.sourceError.message}` : '';
  viewerStatus.textContent = `The 3D view could not load the model${reason}. The download links below still work.`;
});

logout.addEventListener('click', () => {
  const ending = client === sessionClient ? sessionClient.logout() : Promise.resolve();
  client = sessionClient;
  void ending.then(() => show(false));
});

// A stored session (an earlier visit) opens the studio at once.
if (sessionClient.tokens.get()) {
  sessionClient.auth.me
    .query()
    .then(() => show(true))
    .catch(() => show(false));
}
