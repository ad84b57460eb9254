// Maps the typed errors of the runtime, the caption-file formats and the LLaVA adapters onto
// problem+json errors, so routes can let them propagate to the app's error handler.
import { GenerationOptionsError } from "../../shared/decoding/options.ts";
import { ValidationError } from "../../shared/formats/validation-error.ts";
import { ImageDecodeError } from "../../shared/image/errors.ts";
import {
  BackendError,
  BackendOptionError,
  BackendTimeoutError,
  BackendUnavailableError,
} from "../../shared/llava/errors.ts";
import { ModelPackageError } from "../../shared/runtime/errors.ts";
import { ProblemError } from "../problem.ts";

/** Turns a JSON Pointer-like path without the leading slash ("references/images/0") into a pointer. */
function pointer(path: string): string {
  return path.startsWith("/") ? path : `/${path}`;
}

function imageProblem(error: ImageDecodeError): ProblemError | null {
  switch (error.code) {
    case "unsupported_type":
    case "unsupported_format":
      return new ProblemError(
        415,
        "unsupported-media-type",
        "Unsupported image type",
        error.message,
      );
    case "too_many_pixels":
      return new ProblemError(413, "payload-too-large", "Image too large", error.message);
    case "empty":
      return new ProblemError(400, "invalid-image", "Empty image", error.message);
    case "invalid_dimensions":
    case "truncated":
    case "corrupt":
      return new ProblemError(422, "invalid-image", "Invalid image", error.message);
    case "codec_not_initialized":
      return null;
  }
}

function backendProblem(error: BackendError): ProblemError {
  if (error instanceof BackendOptionError) {
    return new ProblemError(
      400,
      "validation-failed",
      "Unsupported generation options",
      error.message,
      error.options.map((option) => ({ path: `/${option.option}`, message: option.reason })),
    );
  }
  if (error instanceof BackendTimeoutError) {
    return new ProblemError(504, "backend-timeout", "LLaVA backend timed out", error.message);
  }
  const headers: Record<string, string> = {};
  if (error instanceof BackendUnavailableError && error.retryAfterMs !== null) {
    headers["retry-after"] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
  }
  return new ProblemError(
    502,
    "backend-unavailable",
    "LLaVA backend unavailable",
    error.message,
    undefined,
    headers,
  );
}

/** Returns the problem for a known error type, or null for errors that stay internal (500). */
export function toProblem(error: unknown): ProblemError | null {
  if (error instanceof ProblemError) return error;
  if (error instanceof ImageDecodeError) return imageProblem(error);
  if (error instanceof GenerationOptionsError) {
    return new ProblemError(400, "validation-failed", "Invalid generation option", error.message, [
      { path: `/${error.param}`, message: error.message },
    ]);
  }
  if (error instanceof ValidationError) {
    return new ProblemError(
      400,
      "validation-failed",
      "Invalid captions document",
      error.message,
      error.problems.map((problem) => ({ path: pointer(problem.path), message: problem.message })),
    );
  }
  if (error instanceof BackendError) return backendProblem(error);
  if (error instanceof ModelPackageError) {
    return new ProblemError(
      503,
      "model-unavailable",
      "Model unavailable",
      `The model package failed to load: ${error.message}. The next request retries the load.`,
    );
  }
  return null;
}
