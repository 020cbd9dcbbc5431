// A Node program written the way a third party would, against the installed @gen3d/client package.
import { createGen3dClient, isGen3dError, ZLoginInput, type RouterOutputs, type TJob } from '@gen3d/client';

function setting(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const email = setting('GEN3D_EMAIL');
const gen3d = createGen3dClient({ url: setting('GEN3D_URL') });

const info: RouterOutputs['system']['info'] = await gen3d.system.info.query();
const wrongPassword = await gen3d.login(email, 'not the password').then(
  () => null,
  (error: unknown) => error,
);
await gen3d.login(email, setting('GEN3D_PASSWORD'));
const me = await gen3d.auth.me.query();
const unknownJob = await gen3d.jobs.get.query({ id: '0123456789abcdef01234567' }).then(
  () => null,
  (error: unknown) => error,
);
const updates: TJob['status'][] = [];
const { job, assets } = await gen3d.generate('a red low-poly fox', {
  onProgress: (update) => updates.push(update.status),
});
const fileSizes = await Promise.all(
  assets.map(async (asset) => (await (await fetch(asset.url)).arrayBuffer()).byteLength),
);
await gen3d.logout();

console.log(
  JSON.stringify({
    serverName: info.name,
    wrongPasswordCode: isGen3dError(wrongPassword) ? wrongPassword.code : null,
    unknownJob: isGen3dError(unknownJob) ? { code: unknownJob.code, status: unknownJob.status } : null,
    schemaRejectsMissingPassword: !ZLoginInput.safeParse({ email }).success,
    userName: me.userName,
    jobStatus: job.status,
    updates,
    formats: assets.map((asset) => asset.format).sort(),
    fileSizes,
  }),
);

/** Never called: it only has to compile, proving the procedures' types are real, not `any`. */
export function typeChecks(): void {
  // @ts-expect-error a login needs a password
  void gen3d.auth.login.mutate({ email });
  // @ts-expect-error a job's status is not a number
  const status: number = job.status;
  // @ts-expect-error there is no such procedure
  void gen3d.jobs.explode.mutate({});
  void status;
}
