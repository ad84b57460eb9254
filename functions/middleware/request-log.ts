// Assigns each request an id and writes one JSON log line when it finishes:
// {"level","msg":"request","request_id","method","route","path","status","ms"}, plus "model" and
// "cache" when a caption or score route sets them. Never logs bodies, image bytes or credentials.
// The id is echoed in the `x-request-id` response header and in problem+json `instance`.
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Writes one structured log line, with `fields` after the standard ones. */
export function logJson(
  level: "info" | "warn" | "error",
  msg: string,
  fields: Record<string, unknown>,
): void {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === "error") console.error(line);
  else console.log(line);
}

export const requestLog = createMiddleware<AppEnv>(async (c, next) => {
  // A caller-supplied id is kept only when it is short and plain, so logs cannot be forged with it.
  const incoming = c.req.header("x-request-id");
  const requestId =
    incoming !== undefined && REQUEST_ID_PATTERN.test(incoming) ? incoming : crypto.randomUUID();
  c.set("requestId", requestId);

  // NOTE: workerd advances Date.now() only at I/O boundaries, so `ms` under-reports CPU-bound work
  // there; benchmarks time requests from outside the isolate instead.
  const started = Date.now();
  await next();
  c.header("x-request-id", requestId);

  logJson(c.res.status >= 500 ? "error" : "info", "request", {
    request_id: requestId,
    method: c.req.method,
    route: c.req.routePath,
    path: new URL(c.req.url).pathname,
    status: c.res.status,
    ms: Date.now() - started,
    ...(c.get("model") === undefined ? {} : { model: c.get("model") }),
    ...(c.get("cache") === undefined ? {} : { cache: c.get("cache") }),
  });
});
