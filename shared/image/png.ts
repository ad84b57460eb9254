import { decode as decodePngData } from "fast-png";
import { dropExtraChannels, fullPalette, grayToRgb, paletteToRgb } from "./convert.ts";
import { ImageDecodeError } from "./errors.ts";
import { readExifOrientation } from "./exif.ts";
import type { RgbImage } from "./types.ts";

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlaced: boolean;
}

const SIGNATURE_LENGTH = 8;

// Colour types from the PNG specification.
const GRAY = 0;
const RGB = 2;
const PALETTE = 3;
const GRAY_ALPHA = 4;
const RGBA = 6;

const CHANNELS: Record<number, number> = {
  [GRAY]: 1,
  [RGB]: 3,
  [PALETTE]: 1,
  [GRAY_ALPHA]: 2,
  [RGBA]: 4,
};

/** Reads IHDR, which the PNG specification requires to be the first chunk. */
export function readPngHeader(bytes: Uint8Array): PngHeader {
  if (bytes.length < SIGNATURE_LENGTH + 8 + 13) {
    throw new ImageDecodeError(
      "truncated",
      "PNG data ends inside the IHDR header. Send the complete file.",
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = String.fromCharCode(...bytes.subarray(12, 16));
  if (type !== "IHDR" || view.getUint32(8) !== 13) {
    throw new ImageDecodeError(
      "corrupt",
      `PNG starts with chunk "${type}" instead of IHDR. The file is damaged.`,
    );
  }
  const header = {
    width: view.getUint32(16),
    height: view.getUint32(20),
    bitDepth: bytes[24] as number,
    colorType: bytes[25] as number,
    interlaced: bytes[28] === 1,
  };
  if (CHANNELS[header.colorType] === undefined) {
    throw new ImageDecodeError(
      "corrupt",
      `PNG has invalid colour type ${header.colorType}. The file is damaged.`,
    );
  }
  return header;
}

/**
 * Walks the chunk list: reports truncation when a chunk runs past the end of the data or no IDAT
 * is present, and returns the eXIf payload (EXIF orientation for PNG, as Pillow reads it).
 */
function scanPngChunks(bytes: Uint8Array): { exif: Uint8Array | null } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = SIGNATURE_LENGTH;
  let exif: Uint8Array | null = null;
  let sawImageData = false;

  while (offset + 8 <= bytes.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const end = offset + 12 + length;
    if (end > bytes.length) {
      throw new ImageDecodeError(
        "truncated",
        `PNG chunk ${type} at byte ${offset} needs ${length} bytes but the data ends at byte ${bytes.length}. Send the complete file.`,
      );
    }
    if (type === "IDAT") sawImageData = true;
    if (type === "eXIf" && exif === null) exif = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === "IEND") break;
    offset = end;
  }

  if (!sawImageData) {
    throw new ImageDecodeError(
      "truncated",
      "PNG data ends before any image data (IDAT). Send the complete file.",
    );
  }
  return { exif };
}

/**
 * Decodes a PNG to RGB as Pillow 9.4's PngImagePlugin and convert("RGB") do. Returns the EXIF
 * orientation from an eXIf chunk, if any.
 */
export function decodePng(
  bytes: Uint8Array,
  header: PngHeader,
): RgbImage & { mode: string; orientation: number | null } {
  const { exif } = scanPngChunks(bytes);

  let png: ReturnType<typeof decodePngData>;
  try {
    png = decodePngData(bytes);
  } catch (error) {
    throw new ImageDecodeError(
      "corrupt",
      `PNG data could not be decoded: ${(error as Error).message}.`,
      {
        cause: error,
      },
    );
  }

  const channels = CHANNELS[header.colorType] as number;
  const samples = unpackSamples(png.data, header, channels);
  const { mode, data } = toRgb(samples, header, png.palette);
  return {
    width: header.width,
    height: header.height,
    data,
    mode,
    orientation: exif ? readExifOrientation(exif) : null,
  };
}

/** Returns one sample per array element, row-major; bit depths below 8 are unpacked. */
function unpackSamples(
  data: ArrayLike<number>,
  header: PngHeader,
  channels: number,
): ArrayLike<number> {
  const { width, height, bitDepth } = header;
  const expected = width * height * channels;

  if (bitDepth >= 8) {
    if (data.length < expected) {
      throw new ImageDecodeError(
        "truncated",
        `PNG image data holds ${data.length} of ${expected} samples. The compressed stream was cut off, send the complete file.`,
      );
    }
    return data;
  }

  // NOTE: fast-png 8.0 leaves rows packed only for non-interlaced images; an interlaced PNG with
  // bit depth below 8 is not covered by the test corpus.
  const rowBytes = Math.ceil((width * channels * bitDepth) / 8);
  if (data.length < rowBytes * height) {
    throw new ImageDecodeError(
      "truncated",
      "PNG image data is shorter than its header declares. Send the complete file.",
    );
  }
  const out = new Uint8Array(expected);
  const mask = (1 << bitDepth) - 1;
  const perRow = width * channels;
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < perRow; i++) {
      const bit = i * bitDepth;
      const byte = data[y * rowBytes + (bit >> 3)] as number;
      out[y * perRow + i] = (byte >> (8 - bitDepth - (bit & 7))) & mask;
    }
  }
  return out;
}

function toRgb(
  samples: ArrayLike<number>,
  header: PngHeader,
  palette: ReadonlyArray<ArrayLike<number>> | undefined,
): { mode: string; data: Uint8Array } {
  const { bitDepth, colorType } = header;
  const pixelCount = header.width * header.height;
  const channels = CHANNELS[colorType] as number;

  if (colorType === PALETTE) {
    return { mode: "P", data: paletteToRgb(samples, pixelCount, fullPalette(palette ?? [])) };
  }

  if (colorType === GRAY) {
    if (bitDepth === 16) {
      // Pillow 9.4 opens 16-bit gray as mode I, and I -> RGB clips to 255 instead of scaling.
      return {
        mode: "I",
        data: grayToRgb(
          mapSamples(samples, pixelCount, (v) => Math.min(v, 255)),
          pixelCount,
        ),
      };
    }
    // Pillow scales 1, 2 and 4-bit gray to 0-255 (mode 1 and the L;2, L;4 unpackers).
    const scale = 255 / ((1 << bitDepth) - 1);
    const gray = bitDepth === 8 ? samples : mapSamples(samples, pixelCount, (v) => v * scale);
    return { mode: bitDepth === 1 ? "1" : "L", data: grayToRgb(gray, pixelCount) };
  }

  // 16-bit RGB, RGBA and gray+alpha keep the high byte (Pillow's ;16B unpackers truncate).
  const eight =
    bitDepth === 16 ? mapSamples(samples, pixelCount * channels, (v) => v >> 8) : samples;
  // Pillow 9.4 opens 16-bit gray+alpha as RGBA (unpacker LA;16B), with the same high-byte gray.
  if (colorType === GRAY_ALPHA)
    return { mode: bitDepth === 16 ? "RGBA" : "LA", data: grayToRgb(eight, pixelCount, 2) };
  return {
    mode: colorType === RGBA ? "RGBA" : "RGB",
    data: dropExtraChannels(eight, pixelCount, channels),
  };
}

function mapSamples(
  samples: ArrayLike<number>,
  count: number,
  map: (value: number) => number,
): Uint8Array {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = map(samples[i] as number);
  return out;
}
