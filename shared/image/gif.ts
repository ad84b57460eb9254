import omggif from "omggif";
import { ImageDecodeError } from "./errors.ts";
import type { RgbImage } from "./types.ts";

/** Logical screen size, which Pillow reports as the image size. */
export function readGifHeader(bytes: Uint8Array): { width: number; height: number } {
  if (bytes.length < 13) {
    throw new ImageDecodeError(
      "truncated",
      "GIF data ends inside the logical screen descriptor. Send the complete file.",
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint16(6, true), height: view.getUint16(8, true) };
}

/**
 * Decodes the first frame to RGB as Pillow 9.4 does: mode P, then a plain palette lookup in
 * which the transparent index keeps its palette colour.
 */
export function decodeGif(bytes: Uint8Array): RgbImage & { mode: string } {
  let reader: omggif.GifReader;
  try {
    reader = new omggif.GifReader(bytes);
  } catch (error) {
    const message = (error as Error).message;
    // omggif reads past the end of a cut-off file and then meets an undefined block type.
    const code = /Unknown gif block: 0xundefined|out of range/i.test(message)
      ? "truncated"
      : "corrupt";
    throw new ImageDecodeError(
      code,
      `GIF data could not be parsed: ${message}. Send the complete, valid file.`,
      {
        cause: error,
      },
    );
  }
  if (reader.numFrames() === 0) {
    throw new ImageDecodeError("truncated", "GIF contains no image frame. Send the complete file.");
  }

  const { width, height } = reader;
  const frame = reader.frameInfo(0);
  const rgba = new Uint8Array(width * height * 4);

  // Pillow 9.4 starts the canvas with the transparent index, or index 0 without one, so pixels
  // outside frame 0 get that palette colour. omggif skips transparent pixels when it blits, so
  // they keep this colour too, which is their own palette colour, as Pillow's lookup gives.
  if (frame.palette_offset !== null) {
    const entry = frame.palette_offset + (frame.transparent_index ?? 0) * 3;
    for (let i = 0; i < width * height; i++) {
      rgba[i * 4] = bytes[entry] ?? 0;
      rgba[i * 4 + 1] = bytes[entry + 1] ?? 0;
      rgba[i * 4 + 2] = bytes[entry + 2] ?? 0;
    }
  }

  try {
    reader.decodeAndBlitFrameRGBA(0, rgba);
  } catch (error) {
    throw new ImageDecodeError(
      "truncated",
      `GIF frame 0 could not be decoded: ${(error as Error).message}. Send the complete file.`,
      {
        cause: error,
      },
    );
  }

  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    rgb[i * 3] = rgba[i * 4] as number;
    rgb[i * 3 + 1] = rgba[i * 4 + 1] as number;
    rgb[i * 3 + 2] = rgba[i * 4 + 2] as number;
  }
  return { width, height, data: rgb, mode: "P" };
}
