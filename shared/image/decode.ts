import { decodeBmp, readBmpHeader } from "./bmp.ts";
import { ImageDecodeError } from "./errors.ts";
import { decodeGif, readGifHeader } from "./gif.ts";
import { decodeJpeg, readJpegHeader } from "./jpeg.ts";
import { applyExifOrientation } from "./orientation.ts";
import { decodePng, readPngHeader } from "./png.ts";
import { detectImageType } from "./sniff.ts";
import type { DecodedImage, ImageHeader, RgbImage } from "./types.ts";
import { decodeWebp, readWebpHeader } from "./webp.ts";

/**
 * Pillow's Image.MAX_IMAGE_PIXELS (about 89.5 Mpx). Pillow only warns above it and raises above
 * twice it; this module rejects everything above the limit, because the RGB(A) buffers of such an
 * image already exceed a workerd isolate's memory.
 */
export const PILLOW_MAX_IMAGE_PIXELS = 89_478_485;

export interface DecodeOptions {
  /** Largest accepted width x height, checked on the header before any pixel is decoded. */
  maxPixels?: number;
}

/** Detects the format and reads the stored size from the header; decodes no pixels. */
export function probeImage(bytes: Uint8Array): ImageHeader {
  const type = detectImageType(bytes);
  const size =
    type === "jpeg"
      ? readJpegHeader(bytes)
      : type === "png"
        ? readPngHeader(bytes)
        : type === "gif"
          ? readGifHeader(bytes)
          : type === "webp"
            ? readWebpHeader(bytes)
            : readBmpHeader(bytes);
  return { type, width: size.width, height: size.height };
}

/** Rejects a header whose size is zero or whose pixel count is above `maxPixels`. */
export function assertPixelLimit(header: ImageHeader, maxPixels = PILLOW_MAX_IMAGE_PIXELS): void {
  const { type, width, height } = header;
  if (!(width > 0 && height > 0)) {
    throw new ImageDecodeError(
      "invalid_dimensions",
      `${type.toUpperCase()} header declares a ${width}x${height} image. An image needs at least 1x1 pixels.`,
    );
  }
  const pixels = width * height;
  if (pixels > maxPixels) {
    throw new ImageDecodeError(
      "too_many_pixels",
      `${type.toUpperCase()} header declares ${width}x${height} = ${pixels} pixels, above the limit of ${maxPixels}` +
        " (a possible decompression bomb). Downscale the image before sending it or raise maxPixels.",
    );
  }
}

/**
 * Decodes image bytes to 8-bit RGB the way Pillow 9.4 does `ImageOps.exif_transpose(Image.open(f))
 * .convert("RGB")`. The size limit is checked on the header before any pixel buffer is allocated.
 * JPEG and WebP need `initImageCodecs` first.
 */
export async function decodeImage(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): Promise<DecodedImage> {
  const header = probeImage(bytes);
  assertPixelLimit(header, options.maxPixels);

  let decoded: RgbImage & { mode: string; orientation?: number | null };
  if (header.type === "jpeg") {
    const jpegHeader = readJpegHeader(bytes);
    decoded = { ...(await decodeJpeg(bytes, jpegHeader)), orientation: jpegHeader.orientation };
  } else if (header.type === "png") {
    decoded = decodePng(bytes, readPngHeader(bytes));
  } else if (header.type === "gif") {
    decoded = decodeGif(bytes);
  } else if (header.type === "webp") {
    decoded = await decodeWebp(bytes, readWebpHeader(bytes));
  } else {
    decoded = decodeBmp(bytes, readBmpHeader(bytes));
  }

  // Pillow ignores orientation values outside 1-8, so they are reported as 1.
  const stored = decoded.orientation ?? 1;
  const orientation = stored >= 1 && stored <= 8 ? stored : 1;
  const oriented = applyExifOrientation(decoded, orientation);
  return { ...oriented, type: header.type, orientation, sourceMode: decoded.mode };
}
