import sharp from 'sharp';

/**
 * A 96x64 PNG with transparency: a red-to-yellow disc on a fully transparent background, brighter towards
 * its right, so its relief slopes and its silhouette comes from the alpha channel.
 */
export async function discWithAlpha(): Promise<Buffer> {
  const width = 96;
  const height = 64;
  const pixels = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y += 1)
    for (let x = 0; x < width; x += 1) {
      const at = (y * width + x) * 4;
      const inside = Math.hypot(x - width / 2, y - height / 2) < 26;
      pixels[at] = 230;
      pixels[at + 1] = Math.round((255 * x) / width);
      pixels[at + 2] = 40;
      pixels[at + 3] = inside ? 255 : 0;
    }
  return sharp(pixels, { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
}

/** A 64x64 JPEG without alpha: a dark blue square on a flat white background. */
export async function squareOnWhite(): Promise<Buffer> {
  const width = 64;
  const pixels = Buffer.alloc(width * width * 3, 255);
  for (let y = 16; y < 48; y += 1)
    for (let x = 16; x < 48; x += 1) pixels.set([20, 40, 160], (y * width + x) * 3);
  return sharp(pixels, { raw: { width, height: width, channels: 3 } })
    .jpeg({ quality: 95 })
    .toBuffer();
}

/** A PNG of one colour, `width` x `height` (a few hundred bytes even when its sides are huge). */
export function plainPng(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 90, g: 120, b: 30 } } })
    .png()
    .toBuffer();
}

/** The image as the reference server's HTTP contract takes it. */
export function imageField(bytes: Uint8Array, mediaType = 'image/png'): { data: string; mediaType: string } {
  return { data: Buffer.from(bytes).toString('base64'), mediaType };
}
