// Checks of the image, media type and instruction, and the data URL encoding of the image.
import { BackendOptionError, type RejectedOption } from "./errors.ts";
import type { BackendKind, CaptionRequest } from "./types.ts";

const MEDIA_TYPE_PATTERN = /^image\/[a-z0-9][a-z0-9.+-]*$/i;

/** Throws BackendOptionError when the image is empty, the media type is not image/*, or the instruction is blank. */
export function validateCaptionInput(
  backend: BackendKind,
  request: Pick<CaptionRequest, "image" | "mediaType" | "instruction">,
): void {
  const problems: RejectedOption[] = [];
  if (!(request.image instanceof Uint8Array) || request.image.length === 0) {
    problems.push({
      option: "image",
      value: `${request.image?.length ?? 0} bytes`,
      reason: "must be a non-empty file",
    });
  }
  if (typeof request.mediaType !== "string" || !MEDIA_TYPE_PATTERN.test(request.mediaType)) {
    problems.push({
      option: "mediaType",
      value: request.mediaType,
      reason: "must be an image media type such as image/jpeg",
    });
  }
  if (typeof request.instruction !== "string" || request.instruction.trim() === "") {
    problems.push({
      option: "instruction",
      value: request.instruction,
      reason: "must be a non-empty string",
    });
  }
  if (problems.length > 0) throw new BackendOptionError(backend, problems);
}

/** `data:<mediaType>;base64,<bytes>` with standard base64 (RFC 4648 section 4), built with btoa. */
export function encodeDataUrl(mediaType: string, bytes: Uint8Array): string {
  return `data:${mediaType};base64,${encodeBase64(bytes)}`;
}

export function encodeBase64(bytes: Uint8Array): string {
  // String.fromCharCode takes its arguments on the stack, so the bytes go in 32 KiB chunks.
  const chunkSize = 0x8000;
  let binary = "";
  for (let start = 0; start < bytes.length; start += chunkSize) {
    binary += String.fromCharCode(...bytes.subarray(start, start + chunkSize));
  }
  return btoa(binary);
}
