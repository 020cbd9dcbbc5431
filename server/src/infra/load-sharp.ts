import type Sharp from 'sharp';

let loading: Promise<typeof Sharp> | undefined;

/**
 * sharp, loaded at its first use: its native library takes a noticeable time to load and ~23 MiB of memory,
 * which a server that never sees an image (and the reference server's prompt path) should not pay.
 */
export function loadSharp(): Promise<typeof Sharp> {
  loading ??= import('sharp').then(({ default: sharp }) => {
    // Each image is decoded once: libvips' operation cache would only hold its pixels in memory longer.
    sharp.cache(false);
    return sharp;
  });
  return loading;
}
