// Sends image bytes to `POST /v1/captions` on the edgecap origin and turns every failure into a
// CaptionRequestError whose message the widget can show as it is.
import { type CaptionView, parseCaptionResponse, ResponseShapeError } from "./response.ts";

export interface CaptionOptions {
  /** Model id, or null for the service's default model. */
  model: string | null;
  /** Beam count (`num_beams`), or null for the service default. */
  beams: number | null;
  /** Maximum generated tokens (`max_new_tokens`), or null for the service default. */
  maxTokens: number | null;
}

/** A failed caption request, with a message written for the visitor. */
export class CaptionRequestError extends Error {
  override name = "CaptionRequestError";
  /** HTTP status, or null when no response arrived. */
  readonly status: number | null;

  constructor(message: string, status: number | null) {
    super(message);
    this.status = status;
  }
}

/** Builds the multipart body: the image bytes as `image`, the options as form fields. */
export function buildCaptionForm(image: Blob, options: CaptionOptions): FormData {
  const form = new FormData();
  form.append("image", image, image instanceof File ? image.name : "image");
  form.append("attention", "true");
  if (options.model !== null) form.append("model", options.model);
  if (options.beams !== null) form.append("num_beams", String(options.beams));
  if (options.maxTokens !== null) form.append("max_new_tokens", String(options.maxTokens));
  return form;
}

/** Reads an RFC 9457 problem body into one line: title, detail and the instance to quote. */
async function describeFailure(response: Response): Promise<string> {
  const type = response.headers.get("content-type") ?? "";
  const fallback = `The caption service responded with HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}.`;
  if (!type.includes("json")) return fallback;

  let body: unknown;
  try {
    body = await response.json();
  } catch {
    return fallback;
  }
  if (typeof body !== "object" || body === null) return fallback;

  const problem = body as Record<string, unknown>;
  const title = typeof problem.title === "string" ? problem.title : `HTTP ${response.status}`;
  const detail = typeof problem.detail === "string" ? problem.detail : "";
  const instance = typeof problem.instance === "string" ? ` (${problem.instance})` : "";
  return `${title}: ${detail || fallback}${instance}`;
}

/**
 * Posts the image and returns the parsed caption. Rethrows the AbortError when `signal` aborts, so
 * the caller can tell a replaced request from a failed one.
 */
export async function requestCaption(
  endpoint: string,
  image: Blob,
  options: CaptionOptions,
  signal: AbortSignal,
): Promise<CaptionView> {
  const url = new URL("/v1/captions", endpoint);

  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      body: buildCaptionForm(image, options),
      headers: { accept: "application/json" },
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw error;
    // Browsers report a CORS rejection and an unreachable host as the same TypeError, on purpose.
    throw new CaptionRequestError(
      `The request to ${url.origin} failed before a response arrived. Either the service is unreachable, or it does not allow this page's origin (${location.origin}). Add that origin to the service's ALLOWED_ORIGINS.`,
      null,
    );
  }

  if (!response.ok) throw new CaptionRequestError(await describeFailure(response), response.status);

  try {
    return parseCaptionResponse(await response.json());
  } catch (error) {
    if (signal.aborted) throw error;
    const reason = error instanceof ResponseShapeError ? error.message : "the body is not JSON";
    throw new CaptionRequestError(
      `The caption service at ${url.origin} returned an unexpected response: ${reason}`,
      response.status,
    );
  }
}
