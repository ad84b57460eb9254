// Detects a backend that dropped the image. LLaVA-1.5's processor expands one image into 576 prompt
// tokens (CLIP ViT-L/14 at 336 px gives 24 x 24 patch features). A prompt of fewer tokens cannot
// have contained the image, as with a text-only model or a server without the vision processor.
import { BackendImageIgnoredError } from "./errors.ts";
import type { BackendKind, ImageIgnoredWarning, TokenUsage } from "./types.ts";

export const LLAVA15_IMAGE_TOKENS = 576;

/** `warn` adds an `image_ignored` warning to the result, `error` throws, `off` skips the check. */
export type ImageCheckMode = "warn" | "error" | "off";

export interface ImageCheckOptions {
  mode: ImageCheckMode;
  /** Prompt tokens one image expands to; 576 for LLaVA-1.5. */
  expectedImageTokens: number;
}

export const DEFAULT_IMAGE_CHECK: Readonly<ImageCheckOptions> = {
  mode: "warn",
  expectedImageTokens: LLAVA15_IMAGE_TOKENS,
};

/**
 * Returns the `image_ignored` warning when `usage.promptTokens` is below the image's token count,
 * or throws BackendImageIgnoredError in `error` mode. Without usage there is nothing to check.
 */
export function checkImageTokens(
  backend: BackendKind,
  usage: TokenUsage | null,
  options: ImageCheckOptions,
): ImageIgnoredWarning | null {
  if (options.mode === "off" || usage === null) return null;
  if (usage.promptTokens >= options.expectedImageTokens) return null;

  if (options.mode === "error") {
    throw new BackendImageIgnoredError(backend, usage.promptTokens, options.expectedImageTokens);
  }
  return {
    code: "image_ignored",
    message:
      `The backend counted ${usage.promptTokens} prompt tokens, fewer than the ` +
      `${options.expectedImageTokens} tokens of the image alone, so the caption was written without the image.`,
    promptTokens: usage.promptTokens,
    expectedImageTokens: options.expectedImageTokens,
  };
}
