import type Sharp from 'sharp';

let loading: Promise<typeof Sharp> | undefined;

/**
 * sharp, loaded at its first use: its native library takes a noticeable time to load, which models without
 * textures (and processes that never see one, like the reference server's prompt path) should not pay.
 */
export function loadSharp(): Promise<typeof Sharp> {
  loading ??= import('sharp').then((module) => module.default);
  return loading;
}
