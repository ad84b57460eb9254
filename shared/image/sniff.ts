import { ImageDecodeError } from "./errors.ts";

/** Image formats that the decoders in this folder read. */
export type ImageType = "jpeg" | "png" | "gif" | "webp" | "bmp";

// Formats that are recognised only to name them in the error message.
const KNOWN_UNSUPPORTED: ReadonlyArray<{ name: string; test: (bytes: Uint8Array) => boolean }> = [
  {
    name: "TIFF",
    test: (b) => startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a]),
  },
  { name: "HEIF/AVIF", test: (b) => asciiAt(b, 4, "ftyp") },
  { name: "JPEG XL", test: (b) => startsWith(b, [0xff, 0x0a]) },
  { name: "ICO", test: (b) => startsWith(b, [0x00, 0x00, 0x01, 0x00]) },
  { name: "PDF", test: (b) => asciiAt(b, 0, "%PDF") },
  { name: "HTML or XML text", test: (b) => /^\s*</.test(latin1Prefix(b, 64)) },
];

/**
 * Detects the image format from its magic bytes. The file name and any content type are
 * deliberately ignored, because uploads are often mislabelled (an HTML error page saved as .jpg).
 */
export function detectImageType(bytes: Uint8Array): ImageType {
  if (bytes.length === 0) {
    throw new ImageDecodeError(
      "empty",
      "Image data is empty (0 bytes). Send the file contents, not an empty body.",
    );
  }

  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "jpeg";
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "png";
  if (asciiAt(bytes, 0, "GIF87a") || asciiAt(bytes, 0, "GIF89a")) return "gif";
  if (asciiAt(bytes, 0, "RIFF") && asciiAt(bytes, 8, "WEBP")) return "webp";
  if (asciiAt(bytes, 0, "BM")) return "bmp";

  const head = hexPrefix(bytes, 8);
  const known = KNOWN_UNSUPPORTED.find((format) => format.test(bytes));
  const what = known ? `looks like ${known.name}` : "matches no supported image signature";
  throw new ImageDecodeError(
    "unsupported_type",
    `Image data ${what} (first bytes ${head}). Send a JPEG, PNG, WebP, GIF or BMP file.`,
  );
}

export function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  if (bytes.length < prefix.length) return false;
  return prefix.every((value, index) => bytes[index] === value);
}

export function asciiAt(bytes: Uint8Array, offset: number, text: string): boolean {
  if (bytes.length < offset + text.length) return false;
  for (let i = 0; i < text.length; i++) {
    if (bytes[offset + i] !== text.charCodeAt(i)) return false;
  }
  return true;
}

function latin1Prefix(bytes: Uint8Array, length: number): string {
  return String.fromCharCode(...bytes.subarray(0, length));
}

function hexPrefix(bytes: Uint8Array, length: number): string {
  return Array.from(bytes.subarray(0, length), (b) => b.toString(16).padStart(2, "0")).join(" ");
}
