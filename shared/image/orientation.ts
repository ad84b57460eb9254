import type { RgbImage } from "./types.ts";

/**
 * Applies an EXIF orientation the way Pillow's ImageOps.exif_transpose does: 2 flip left-right,
 * 3 rotate 180, 4 flip top-bottom, 5 transpose, 6 rotate 90 degrees clockwise, 7 transverse,
 * 8 rotate 90 degrees counter-clockwise. Any other value (1, missing, out of range) leaves the
 * image unchanged, as Pillow does.
 */
export function applyExifOrientation(image: RgbImage, orientation: number): RgbImage {
  const { width: w, height: h } = image;

  // Source pixel of output pixel (x, y): sx = a*x + b*y + c, sy = d*x + e*y + f.
  // Orientations 5-8 swap width and height.
  const transforms: Record<number, readonly number[]> = {
    2: [-1, 0, w - 1, 0, 1, 0],
    3: [-1, 0, w - 1, 0, -1, h - 1],
    4: [1, 0, 0, 0, -1, h - 1],
    5: [0, 1, 0, 1, 0, 0],
    6: [0, 1, 0, -1, 0, h - 1],
    7: [0, -1, w - 1, -1, 0, h - 1],
    8: [0, -1, w - 1, 1, 0, 0],
  };
  const transform = transforms[orientation];
  if (!transform) return image;
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0] = transform;

  const swapsAxes = orientation >= 5;
  const outWidth = swapsAxes ? h : w;
  const outHeight = swapsAxes ? w : h;
  const out = new Uint8Array(outWidth * outHeight * 3);

  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const from = ((d * x + e * y + f) * w + (a * x + b * y + c)) * 3;
      const to = (y * outWidth + x) * 3;
      out[to] = image.data[from] as number;
      out[to + 1] = image.data[from + 1] as number;
      out[to + 2] = image.data[from + 2] as number;
    }
  }
  return { width: outWidth, height: outHeight, data: out };
}
