/**
 * Reasons an image can be rejected. `empty`, `unsupported_type`, `too_many_pixels` and
 * `invalid_dimensions` are decided from the first bytes and the header alone, before any pixel
 * buffer exists; `truncated` and `corrupt` can also come from the codec itself.
 */
export type ImageErrorCode =
  | "empty"
  | "unsupported_type"
  | "unsupported_format"
  | "invalid_dimensions"
  | "too_many_pixels"
  | "truncated"
  | "corrupt"
  | "codec_not_initialized";

/** An image that cannot be decoded; `code` is stable for callers, `message` is for people. */
export class ImageDecodeError extends Error {
  override name = "ImageDecodeError";
  readonly code: ImageErrorCode;

  constructor(code: ImageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Invalid preprocessing settings (size, crop, mean, std, resample). */
export class PreprocessConfigError extends Error {
  override name = "PreprocessConfigError";
}
