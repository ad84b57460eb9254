import { ImageDecodeError } from "./errors.ts";
import type { RgbImage } from "./types.ts";

export interface BmpHeader {
  width: number;
  height: number;
  /** Rows are stored top row first (negative height in the header). */
  topDown: boolean;
  bitsPerPixel: number;
  compression: number;
  pixelOffset: number;
  headerSize: number;
}

const FILE_HEADER = 14;
const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

export function readBmpHeader(bytes: Uint8Array): BmpHeader {
  if (bytes.length < FILE_HEADER + 16) {
    throw new ImageDecodeError(
      "truncated",
      "BMP data ends inside its headers. Send the complete file.",
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pixelOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);

  if (headerSize === 12) {
    // OS/2 BITMAPCOREHEADER: 16-bit size fields, always bottom-up and uncompressed.
    return {
      width: view.getUint16(18, true),
      height: view.getUint16(20, true),
      topDown: false,
      bitsPerPixel: view.getUint16(24, true),
      compression: BI_RGB,
      pixelOffset,
      headerSize,
    };
  }
  if (headerSize < 40 || bytes.length < FILE_HEADER + 40) {
    throw new ImageDecodeError(
      "corrupt",
      `BMP info header size ${headerSize} is invalid or cut off. The file is damaged.`,
    );
  }
  const signedHeight = view.getInt32(22, true);
  return {
    width: view.getInt32(18, true),
    height: Math.abs(signedHeight),
    topDown: signedHeight < 0,
    bitsPerPixel: view.getUint16(28, true),
    compression: view.getUint32(30, true),
    pixelOffset,
    headerSize,
  };
}

/**
 * Decodes an uncompressed BMP: 24-bit, 32-bit (BI_RGB or byte-aligned BI_BITFIELDS masks) and
 * 1/4/8-bit palette images, bottom-up or top-down. Alpha is dropped, as in convert("RGB").
 */
export function decodeBmp(bytes: Uint8Array, header: BmpHeader): RgbImage & { mode: string } {
  const { width, height, bitsPerPixel: bits } = header;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stride = Math.ceil((bits * width) / 32) * 4;

  if (header.pixelOffset + stride * height > bytes.length) {
    throw new ImageDecodeError(
      "truncated",
      `BMP pixel data needs ${header.pixelOffset + stride * height} bytes but the data has ${bytes.length}. Send the complete file.`,
    );
  }

  const out = new Uint8Array(width * height * 3);
  const rowStart = (y: number) =>
    header.pixelOffset + (header.topDown ? y : height - 1 - y) * stride;

  if (bits === 24 || bits === 32) {
    const [red, green, blue] = channelBytes(view, header);
    const step = bits / 8;
    for (let y = 0; y < height; y++) {
      const row = rowStart(y);
      for (let x = 0; x < width; x++) {
        const pixel = row + x * step;
        out[(y * width + x) * 3] = bytes[pixel + red] as number;
        out[(y * width + x) * 3 + 1] = bytes[pixel + green] as number;
        out[(y * width + x) * 3 + 2] = bytes[pixel + blue] as number;
      }
    }
    return { width, height, data: out, mode: "RGB" };
  }

  if ((bits === 1 || bits === 4 || bits === 8) && header.compression === BI_RGB) {
    const palette = readPalette(view, header);
    const mask = (1 << bits) - 1;
    for (let y = 0; y < height; y++) {
      const row = rowStart(y);
      for (let x = 0; x < width; x++) {
        const bit = x * bits;
        const index = ((bytes[row + (bit >> 3)] as number) >> (8 - bits - (bit & 7))) & mask;
        const entry = palette[index] ?? [0, 0, 0];
        out.set(entry, (y * width + x) * 3);
      }
    }
    return { width, height, data: out, mode: "P" };
  }

  throw new ImageDecodeError(
    "unsupported_format",
    `BMP with ${bits} bits per pixel and compression ${header.compression} is not supported. Convert it to PNG or 24-bit BMP.`,
  );
}

/** Byte offsets of red, green and blue within a pixel, stored as B, G, R unless masks say otherwise. */
function channelBytes(view: DataView, header: BmpHeader): [number, number, number] {
  const usesMasks = header.compression === BI_BITFIELDS || header.compression === BI_ALPHABITFIELDS;
  if (header.compression === BI_RGB || (usesMasks && header.bitsPerPixel === 24)) return [2, 1, 0];
  if (!usesMasks || header.bitsPerPixel !== 32) {
    throw new ImageDecodeError(
      "unsupported_format",
      `BMP compression ${header.compression} is not supported. Convert the file to PNG or uncompressed BMP.`,
    );
  }

  // Masks follow a 40-byte header, or sit inside the V2-V5 headers at the same offset.
  const masks = [view.getUint32(54, true), view.getUint32(58, true), view.getUint32(62, true)];
  return masks.map((mask) => {
    const byte = [0, 1, 2, 3].find(
      (k) => mask === 0xff << (8 * k) || mask === (0xff << (8 * k)) >>> 0,
    );
    if (byte === undefined) {
      throw new ImageDecodeError(
        "unsupported_format",
        `BMP channel mask 0x${mask.toString(16)} is not byte-aligned. Convert the file to PNG.`,
      );
    }
    return byte;
  }) as [number, number, number];
}

function readPalette(view: DataView, header: BmpHeader): Array<[number, number, number]> {
  const entrySize = header.headerSize === 12 ? 3 : 4;
  const declared = header.headerSize >= 40 ? view.getUint32(46, true) : 0;
  const count = declared > 0 ? Math.min(declared, 256) : 1 << header.bitsPerPixel;
  const start = FILE_HEADER + header.headerSize;
  const palette: Array<[number, number, number]> = [];
  for (let i = 0; i < count && start + i * entrySize + 3 <= view.byteLength; i++) {
    const at = start + i * entrySize;
    palette.push([view.getUint8(at + 2), view.getUint8(at + 1), view.getUint8(at)]);
  }
  return palette;
}
