// RFC 9457 problem details: every error the service returns is `application/problem+json` with a
// stable `type` URI, a short `title`, the HTTP `status`, a `detail` that names the value and the fix,
// and the request id as `instance` so a user can quote it.
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "./env.ts";

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** The problem types this service emits; the suffix is the last path segment of `type`. */
export type ProblemKind =
  | "invalid-request"
  | "invalid-json"
  | "validation-failed"
  | "payload-too-large"
  | "too-many-items"
  | "unsupported-media-type"
  | "invalid-image"
  | "unauthorized"
  | "forbidden"
  | "rate-limited"
  | "not-found"
  | "method-not-allowed"
  | "model-unavailable"
  | "backend-unavailable"
  | "backend-timeout"
  | "not-built"
  | "internal-error";

export interface ProblemField {
  /** JSON Pointer-like path of the invalid value, for example `/predictions/000000000139`. */
  path: string;
  message: string;
}

/** An error that carries its HTTP status and problem type up to the app's error handler. */
export class ProblemError extends Error {
  override name = "ProblemError";
  readonly status: ContentfulStatusCode;
  readonly kind: ProblemKind;
  readonly title: string;
  readonly errors: ProblemField[] | undefined;
  /** Response headers the problem needs, such as Retry-After or WWW-Authenticate. */
  readonly headers: Record<string, string>;

  constructor(
    status: ContentfulStatusCode,
    kind: ProblemKind,
    title: string,
    detail: string,
    errors?: ProblemField[],
    headers: Record<string, string> = {},
  ) {
    super(detail);
    this.status = status;
    this.kind = kind;
    this.title = title;
    this.errors = errors;
    this.headers = headers;
  }
}

export function problemTypeUri(kind: ProblemKind): string {
  return `https://edgecap.dev/problems/${kind}`;
}

/** Builds the problem+json response for the current request. */
export function problemResponse(
  c: Context<AppEnv>,
  status: ContentfulStatusCode,
  kind: ProblemKind,
  title: string,
  detail: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Response {
  const body = {
    type: problemTypeUri(kind),
    title,
    status,
    detail,
    instance: `urn:edgecap:request:${c.get("requestId") ?? "unknown"}`,
    ...extra,
  };
  return c.body(JSON.stringify(body), status, { ...headers, "content-type": PROBLEM_CONTENT_TYPE });
}

/** The problem+json document of an error, for places that cannot return a response (SSE). */
export function problemBody(requestId: string, error: ProblemError): Record<string, unknown> {
  return {
    type: problemTypeUri(error.kind),
    title: error.title,
    status: error.status,
    detail: error.message,
    instance: `urn:edgecap:request:${requestId}`,
    ...(error.errors === undefined ? {} : { errors: error.errors }),
  };
}
