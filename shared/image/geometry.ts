// Resize and crop geometry of torchvision 0.14 (Resize with an int size, CenterCrop).

import type { RgbImage } from "./types.ts";

/** Python 3's round(): ties go to the even neighbour, so round(54.5) is 54, not 55 as in Math.round. */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction < 0.5) return floor;
  if (fraction > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Output size of torchvision Resize(size) with an int: the shorter side becomes `size` and the
 * longer side int(size * long / short), computed in float64 and truncated, not rounded.
 */
export function shorterSideSize(
  width: number,
  height: number,
  size: number,
): { width: number; height: number } {
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const newLong = Math.trunc((size * long) / short);
  return width <= height ? { width: size, height: newLong } : { width: newLong, height: size };
}

/**
 * torchvision CenterCrop: offsets are round((W - w) / 2) with Python rounding. An image smaller
 * than the crop is first padded with zeros, (d // 2) before and ((d + 1) // 2) after. `left` and
 * `top` are in the input image and negative when padding was added.
 */
export function centerCrop(
  image: RgbImage,
  cropWidth: number,
  cropHeight: number,
): { image: RgbImage; left: number; top: number } {
  const padLeft = cropWidth > image.width ? Math.floor((cropWidth - image.width) / 2) : 0;
  const padRight = cropWidth > image.width ? Math.floor((cropWidth - image.width + 1) / 2) : 0;
  const padTop = cropHeight > image.height ? Math.floor((cropHeight - image.height) / 2) : 0;
  const padBottom = cropHeight > image.height ? Math.floor((cropHeight - image.height + 1) / 2) : 0;
  const paddedWidth = image.width + padLeft + padRight;
  const paddedHeight = image.height + padTop + padBottom;

  const left = roundHalfEven((paddedWidth - cropWidth) / 2) - padLeft;
  const top = roundHalfEven((paddedHeight - cropHeight) / 2) - padTop;

  const out = new Uint8Array(cropWidth * cropHeight * 3);
  for (let y = 0; y < cropHeight; y++) {
    const sourceY = y + top;
    if (sourceY < 0 || sourceY >= image.height) continue;
    // Copy the part of the row that lies inside the image; the rest stays zero (padding).
    const firstX = Math.max(0, -left);
    const endX = Math.min(cropWidth, image.width - left);
    if (endX <= firstX) continue;
    const from = (sourceY * image.width + firstX + left) * 3;
    out.set(image.data.subarray(from, from + (endX - firstX) * 3), (y * cropWidth + firstX) * 3);
  }
  return { image: { width: cropWidth, height: cropHeight, data: out }, left, top };
}
