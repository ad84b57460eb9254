import type { ImageType } from "./sniff.ts";

/** 8-bit RGB pixels, row-major from the top row, interleaved R, G, B (the layout of numpy HWC). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** What the header says, read before any pixel is decoded. */
export interface ImageHeader {
  type: ImageType;
  /** Stored width and height, before the EXIF orientation is applied. */
  width: number;
  height: number;
}

/** A decoded image after EXIF orientation and conversion to RGB. */
export interface DecodedImage extends RgbImage {
  type: ImageType;
  /** EXIF orientation 1-8 that was applied, or 1 when the file has none. */
  orientation: number;
  /** The Pillow mode the file opens in (L, LA, P, RGB, RGBA, I, CMYK, 1), before convert('RGB'). */
  sourceMode: string;
}
