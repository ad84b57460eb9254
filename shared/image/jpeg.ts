import { adobeCmykToRgb, grayToRgb } from "./convert.ts";
import { ImageDecodeError } from "./errors.ts";
import { readExifOrientation } from "./exif.ts";
import { decodeJpegPixels, TurboColorspace } from "./jpeg-turbo.ts";
import type { RgbImage } from "./types.ts";

export interface JpegHeader {
  width: number;
  height: number;
  /** 1 gray, 3 YCbCr or RGB, 4 CMYK or YCCK. */
  components: number;
  /** EXIF orientation from the first APP1 "Exif" segment, or null. */
  orientation: number | null;
  /** Offset of the first SOS marker, where the entropy-coded data starts. */
  scanOffset: number;
}

// SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC).
const START_OF_FRAME = new Set([
  0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf,
]);
const START_OF_SCAN = 0xda;
const END_OF_IMAGE = 0xd9;

/** Reads the frame size, component count and EXIF orientation from the segments before SOS. */
export function readJpegHeader(bytes: Uint8Array): JpegHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let frame: { width: number; height: number; components: number } | null = null;
  let orientation: number | null = null;
  let exifSeen = false;
  let offset = 2;

  while (true) {
    const marker = readMarker(bytes, offset);
    if (marker === null) {
      throw truncatedError(frame ? "before the first scan (SOS)" : "before the frame header (SOF)");
    }
    offset = marker.next;
    if (marker.code === START_OF_SCAN) break;
    if (isStandalone(marker.code)) continue;

    if (offset + 2 > bytes.length) throw truncatedError("inside a marker segment");
    const length = view.getUint16(offset);
    if (length < 2)
      throw new ImageDecodeError(
        "corrupt",
        `JPEG segment 0xFF${hex(marker.code)} has invalid length ${length}.`,
      );
    if (offset + length > bytes.length) throw truncatedError("inside a marker segment");
    const payload = bytes.subarray(offset + 2, offset + length);

    if (START_OF_FRAME.has(marker.code) && payload.length >= 6) {
      frame = {
        height: view.getUint16(offset + 3),
        width: view.getUint16(offset + 5),
        components: payload[5] as number,
      };
    } else if (marker.code === 0xe1 && !exifSeen && isExif(payload)) {
      // Pillow reads orientation from the first Exif APP1 only.
      exifSeen = true;
      orientation = readExifOrientation(payload);
    }
    offset += length;
  }

  if (!frame) {
    throw new ImageDecodeError(
      "corrupt",
      "JPEG has no frame header (SOF) before its first scan. The file is damaged.",
    );
  }
  return { ...frame, orientation, scanOffset: offset - 2 };
}

/**
 * Checks that the entropy-coded data after the first SOS reaches an EOI marker. Pillow (without
 * LOAD_TRUNCATED_IMAGES) raises "image file is truncated" when the data ends first, while libjpeg
 * alone would fill the missing rows with gray and only warn, so this check makes the difference.
 */
export function assertJpegComplete(bytes: Uint8Array, scanOffset: number): void {
  let offset = scanOffset;
  while (offset + 1 < bytes.length) {
    if (bytes[offset] !== 0xff) {
      offset++;
      continue;
    }
    const code = bytes[offset + 1] as number;
    // Stuffed zero, fill byte or restart marker: still inside entropy-coded data.
    if (code === 0x00 || code === 0xff || (code >= 0xd0 && code <= 0xd7)) {
      offset += code === 0xff ? 1 : 2;
      continue;
    }
    if (code === END_OF_IMAGE) return;

    // Any other marker (DHT, SOS, DRI in a progressive file) has a length to skip.
    if (offset + 4 > bytes.length) break;
    const length = ((bytes[offset + 2] as number) << 8) | (bytes[offset + 3] as number);
    offset += 2 + length;
  }
  throw new ImageDecodeError(
    "truncated",
    `JPEG data ends after ${bytes.length} bytes, before the end-of-image marker. The upload was cut off, so send the complete file.`,
  );
}

/** Decodes a JPEG to RGB as Pillow 9.4 does, before the EXIF orientation is applied. */
export async function decodeJpeg(
  bytes: Uint8Array,
  header: JpegHeader,
): Promise<RgbImage & { mode: string }> {
  assertJpegComplete(bytes, header.scanOffset);

  // Gray comes out as one channel and CMYK/YCCK as libjpeg's raw CMYK (YCCK converted by libjpeg).
  const decoded = await decodeJpegPixels(bytes, (colorspace) => {
    if (colorspace === TurboColorspace.gray) return "gray";
    if (colorspace === TurboColorspace.cmyk || colorspace === TurboColorspace.ycck) return "cmyk";
    return "rgb";
  });
  const pixelCount = decoded.width * decoded.height;

  if (decoded.colorspace === TurboColorspace.gray) {
    return {
      width: decoded.width,
      height: decoded.height,
      data: grayToRgb(decoded.data, pixelCount),
      mode: "L",
    };
  }
  if (decoded.colorspace === TurboColorspace.cmyk || decoded.colorspace === TurboColorspace.ycck) {
    return {
      width: decoded.width,
      height: decoded.height,
      data: adobeCmykToRgb(decoded.data, pixelCount),
      mode: "CMYK",
    };
  }
  return { width: decoded.width, height: decoded.height, data: decoded.data, mode: "RGB" };
}

function readMarker(bytes: Uint8Array, offset: number): { code: number; next: number } | null {
  let position = offset;
  if (bytes[position] !== 0xff) {
    if (position >= bytes.length) return null;
    throw new ImageDecodeError(
      "corrupt",
      `JPEG expected a marker at byte ${position} but found 0x${hex(bytes[position] ?? 0)}. The file is damaged.`,
    );
  }
  // Any number of 0xFF fill bytes may precede the marker code.
  while (bytes[position] === 0xff) position++;
  if (position >= bytes.length) return null;
  return { code: bytes[position] as number, next: position + 1 };
}

function isStandalone(code: number): boolean {
  return code === 0x01 || (code >= 0xd0 && code <= 0xd8);
}

function isExif(payload: Uint8Array): boolean {
  return payload.length >= 6 && String.fromCharCode(...payload.subarray(0, 6)) === "Exif\0\0";
}

function truncatedError(where: string): ImageDecodeError {
  return new ImageDecodeError(
    "truncated",
    `JPEG data ends ${where}. The upload was cut off, so send the complete file.`,
  );
}

function hex(value: number): string {
  return value.toString(16).padStart(2, "0").toUpperCase();
}
