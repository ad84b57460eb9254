import { dropExtraChannels } from "./convert.ts";
import { ImageDecodeError } from "./errors.ts";
import { readExifOrientation } from "./exif.ts";
import { decodeWebpRgba } from "./libwebp.ts";
import type { RgbImage } from "./types.ts";

export interface WebpHeader {
  width: number;
  height: number;
  hasAlpha: boolean;
}

const RIFF_HEADER = 12;

/** Reads the canvas size from the first chunk: VP8 (lossy), VP8L (lossless) or VP8X (extended). */
export function readWebpHeader(bytes: Uint8Array): WebpHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < RIFF_HEADER + 8 + 10) {
    throw new ImageDecodeError(
      "truncated",
      "WebP data ends inside its first chunk header. Send the complete file.",
    );
  }
  const riffEnd = 8 + view.getUint32(4, true);
  if (riffEnd > bytes.length) {
    throw new ImageDecodeError(
      "truncated",
      `WebP RIFF header declares ${riffEnd} bytes but the data has ${bytes.length}. Send the complete file.`,
    );
  }

  const chunk = String.fromCharCode(...bytes.subarray(12, 16));
  const body = RIFF_HEADER + 8;
  if (chunk === "VP8 ") {
    // Frame tag (3 bytes), start code 9D 01 2A, then 14-bit width and height with 2 scale bits.
    if (bytes[body + 3] !== 0x9d || bytes[body + 4] !== 0x01 || bytes[body + 5] !== 0x2a) {
      throw new ImageDecodeError(
        "corrupt",
        "WebP VP8 chunk lacks the keyframe start code. The file is damaged.",
      );
    }
    return {
      width: view.getUint16(body + 6, true) & 0x3fff,
      height: view.getUint16(body + 8, true) & 0x3fff,
      hasAlpha: false,
    };
  }
  if (chunk === "VP8L") {
    // Signature 0x2F, then 14 bits width - 1, 14 bits height - 1, 1 bit alpha hint.
    if (bytes[body] !== 0x2f) {
      throw new ImageDecodeError(
        "corrupt",
        "WebP VP8L chunk lacks its 0x2F signature. The file is damaged.",
      );
    }
    const bits = view.getUint32(body + 1, true);
    return {
      width: (bits & 0x3fff) + 1,
      height: ((bits >>> 14) & 0x3fff) + 1,
      hasAlpha: ((bits >>> 28) & 1) === 1,
    };
  }
  if (chunk === "VP8X") {
    const flags = bytes[body] as number;
    const width =
      1 +
      ((bytes[body + 4] as number) |
        ((bytes[body + 5] as number) << 8) |
        ((bytes[body + 6] as number) << 16));
    const height =
      1 +
      ((bytes[body + 7] as number) |
        ((bytes[body + 8] as number) << 8) |
        ((bytes[body + 9] as number) << 16));
    return { width, height, hasAlpha: (flags & 0x10) !== 0 };
  }
  throw new ImageDecodeError(
    "corrupt",
    `WebP starts with unknown chunk "${chunk}". The file is damaged.`,
  );
}

/** Returns the payload of the EXIF chunk of an extended (VP8X) WebP file, or null. */
function findExifChunk(bytes: Uint8Array): Uint8Array | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = RIFF_HEADER;
  while (offset + 8 <= bytes.length) {
    const type = String.fromCharCode(...bytes.subarray(offset, offset + 4));
    const size = view.getUint32(offset + 4, true);
    if (type === "EXIF")
      return bytes.subarray(offset + 8, Math.min(offset + 8 + size, bytes.length));
    // Chunks are padded to an even size.
    offset += 8 + size + (size & 1);
  }
  return null;
}

/** Decodes the first frame and drops alpha, as Pillow 9.4 does for modes RGB and RGBA. */
export async function decodeWebp(
  bytes: Uint8Array,
  header: WebpHeader,
): Promise<RgbImage & { mode: string; orientation: number | null }> {
  const decoded = await decodeWebpRgba(bytes);
  const exif = findExifChunk(bytes);
  return {
    width: decoded.width,
    height: decoded.height,
    data: dropExtraChannels(decoded.data, decoded.width * decoded.height, 4),
    mode: header.hasAlpha ? "RGBA" : "RGB",
    orientation: exif ? readExifOrientation(exif) : null,
  };
}
