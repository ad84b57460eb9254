// Typed failures of the LLaVA caption backends. Each carries the HTTP status the edge returns
// (problem+json): 400 for options a backend cannot honour, 504 for a timed-out attempt, 502 for an
// unreachable or misbehaving backend. Messages and excerpts never contain the image or the API key.
import type { BackendKind } from "./types.ts";

/** One generation option that a backend cannot apply, with the reason and the fix. */
export interface RejectedOption {
  /** Option name as the caller spelled it, for example `num_beams`. */
  option: string;
  value: unknown;
  reason: string;
}

/** Base class: `httpStatus` is what the edge returns, `backend` names the adapter that failed. */
export abstract class BackendError extends Error {
  abstract readonly httpStatus: 400 | 502 | 504;
  readonly backend: BackendKind;

  constructor(backend: BackendKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.backend = backend;
  }
}

/**
 * Generation options that are invalid or that the backend cannot honour. The edge returns 400 and
 * lists `options`, so the caller can drop or change each one.
 */
export class BackendOptionError extends BackendError {
  override name = "BackendOptionError";
  readonly httpStatus = 400;
  readonly options: readonly RejectedOption[];

  constructor(backend: BackendKind, options: readonly RejectedOption[]) {
    const details = options
      .map((entry) => `${entry.option}=${JSON.stringify(entry.value)}: ${entry.reason}`)
      .join("; ");
    super(backend, `Backend ${backend} cannot run these generation options: ${details}`);
    this.options = options;
  }
}

/** One attempt ran past the per-attempt timeout. Not retried: the GPU may still be generating. */
export class BackendTimeoutError extends BackendError {
  override name = "BackendTimeoutError";
  readonly httpStatus = 504;
  readonly timeoutMs: number;

  constructor(backend: BackendKind, timeoutMs: number, options?: { cause?: unknown }) {
    super(
      backend,
      `Backend ${backend} did not respond within ${timeoutMs} ms. Retry later or raise the timeout.`,
      options,
    );
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Why a backend counts as unavailable: the circuit breaker is open, every retry failed with 429 or
 * 5xx, the backend asked for a longer wait than the retry cap, or the connection failed.
 */
export type UnavailableReason =
  | "circuit_open"
  | "retries_exhausted"
  | "retry_after_too_long"
  | "connection_failed";

export class BackendUnavailableError extends BackendError {
  override name = "BackendUnavailableError";
  readonly httpStatus = 502;
  readonly reason: UnavailableReason;
  /** HTTP status of the last failed attempt; null when no response came back. */
  readonly status: number | null;
  /** Short, redacted excerpt of the backend's last error message. */
  readonly excerpt: string;
  readonly attempts: number;
  /** How long the backend or the breaker asked callers to wait, when known. */
  readonly retryAfterMs: number | null;

  constructor(
    backend: BackendKind,
    details: {
      reason: UnavailableReason;
      status?: number | null;
      excerpt?: string;
      attempts?: number;
      retryAfterMs?: number | null;
      cause?: unknown;
    },
  ) {
    const status = details.status ?? null;
    const excerpt = details.excerpt ?? "";
    const attempts = details.attempts ?? 0;
    super(backend, describeUnavailable(backend, details.reason, status, excerpt, attempts), {
      cause: details.cause,
    });
    this.reason = details.reason;
    this.status = status;
    this.excerpt = excerpt;
    this.attempts = attempts;
    this.retryAfterMs = details.retryAfterMs ?? null;
  }
}

function describeUnavailable(
  backend: BackendKind,
  reason: UnavailableReason,
  status: number | null,
  excerpt: string,
  attempts: number,
): string {
  const last = status === null ? "" : ` Last status ${status}${excerpt ? `: ${excerpt}` : ""}.`;
  switch (reason) {
    case "circuit_open":
      return `Backend ${backend} is failing and its circuit breaker is open. Retry after the cool-down.`;
    case "retries_exhausted":
      return `Backend ${backend} failed ${attempts} attempts.${last} Retry later.`;
    case "retry_after_too_long":
      return `Backend ${backend} asked to wait longer than the retry cap.${last} Retry later.`;
    case "connection_failed":
      return `Backend ${backend} could not be reached after ${attempts} attempts${excerpt ? ` (${excerpt})` : ""}. Check its URL and that it is running.`;
  }
}

/**
 * The backend returned something edgecap cannot use: a malformed body, a non-retryable error
 * status (401, 404, 400), fewer choices than requested, or a prompt that lost the image.
 */
export class BackendResponseError extends BackendError {
  override name = "BackendResponseError";
  readonly httpStatus = 502;
  /** HTTP status of the response; null for the Workers AI binding, which has none. */
  readonly status: number | null;
  readonly excerpt: string;

  constructor(
    backend: BackendKind,
    message: string,
    details: { status: number | null; excerpt?: string; cause?: unknown },
  ) {
    super(backend, message, { cause: details.cause });
    this.status = details.status;
    this.excerpt = details.excerpt ?? "";
  }
}

/** Raised instead of the `image_ignored` warning when the image check runs in "error" mode. */
export class BackendImageIgnoredError extends BackendResponseError {
  override name = "BackendImageIgnoredError";
  readonly promptTokens: number;
  readonly expectedImageTokens: number;

  constructor(backend: BackendKind, promptTokens: number, expectedImageTokens: number) {
    super(
      backend,
      `Backend ${backend} reported ${promptTokens} prompt tokens, fewer than the ${expectedImageTokens} ` +
        "image tokens alone, so it dropped the image. Serve a vision model with its image processor.",
      { status: 200 },
    );
    this.promptTokens = promptTokens;
    this.expectedImageTokens = expectedImageTokens;
  }
}

const EXCERPT_MAX_CHARS = 200;

/**
 * Shortens a backend's error text for messages and logs: data URLs (the image) and bearer tokens
 * are replaced, `secrets` (the API key) are masked, whitespace is collapsed, and the result is cut
 * to 200 characters.
 */
export function redactExcerpt(text: string, secrets: readonly string[] = []): string {
  let cleaned = text.replace(/data:[^\s"',;]*;base64,[A-Za-z0-9+/=_-]*/g, "data:[image]");
  cleaned = cleaned.replace(/Bearer\s+[^\s"',]+/gi, "Bearer [redacted]");
  for (const secret of secrets) {
    if (secret.length > 0) cleaned = cleaned.split(secret).join("[redacted]");
  }
  cleaned = cleaned.replace(/\s+/g, " ").trim();
  if (cleaned.length <= EXCERPT_MAX_CHARS) return cleaned;
  return `${cleaned.slice(0, EXCERPT_MAX_CHARS - 1)}…`;
}
