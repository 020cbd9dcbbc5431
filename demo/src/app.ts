// The demo page's script, bundled by build.js (esbuild) with @gen3d/client and <model-viewer>.
import '@google/model-viewer';

import { createGen3dClient, toGen3dError, webStorageTokenStore } from '@gen3d/client';

import { queueStatus } from './queue-status.js';

const client = createGen3dClient({ url: location.origin, tokens: webStorageTokenStore(localStorage) });

const element = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const account = element<HTMLElement>('account');
const studio = element<HTMLElement>('studio');
const notice = element<HTMLParagraphElement>('notice');
const logout = element<HTMLButtonElement>('logout');
const registerForm = element<HTMLFormElement>('register-form');
const verifyForm = element<HTMLFormElement>('verify-form');
const loginForm = element<HTMLFormElement>('login-form');
const promptForm = element<HTMLFormElement>('prompt-form');
const progress = element<HTMLProgressElement>('progress');
const jobStatus = element<HTMLParagraphElement>('job-status');
const jobQueue = element<HTMLParagraphElement>('job-queue');
const viewer = element<HTMLElement & { src: string | null }>('viewer');
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

onSubmit(promptForm, async () => {
  progress.hidden = false;
  progress.value = 0;
  downloads.textContent = '';
  const { assets } = await client.generate(field(promptForm, 'prompt'), {
    onProgress: (job) => {
      progress.value = job.progress;
      jobStatus.textContent = `${job.status} ${job.progress}%`;
      jobQueue.textContent = queueStatus(job);
    },
  });
  const glb = assets.find((asset) => asset.format === 'glb');
  if (glb) viewer.src = glb.url;
  for (const asset of assets) {
    const link = document.createElement('a');
    link.href = asset.url;
    link.textContent = asset.format.toUpperCase();
    downloads.append(link);
  }
});

logout.addEventListener('click', () => {
  void client.logout().then(() => show(false));
});

// A stored session (an earlier visit) opens the studio at once.
if (client.tokens.get()) {
  client.auth.me
    .query()
    .then(() => show(true))
    .catch(() => show(false));
}
