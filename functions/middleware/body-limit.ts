// Rejects request bodies above EDGECAP_MAX_BODY_BYTES with 413 before a route reads them. hono's
// bodyLimit checks Content-Length first and counts streamed bytes when the header is absent.
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { type AppEnv, readLimit } from "../env.ts";
import { ProblemError } from "../problem.ts";

/** 8 MiB: a large phone photo, base64-encoded in JSON, still fits. */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

export const maxBodySize = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.method === "GET" || c.req.method === "HEAD" || c.req.method === "OPTIONS")
    return next();
  const maxSize = readLimit(c.env.EDGECAP_MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES);
  const limit = bodyLimit({
    maxSize,
    onError: () => {
      throw new ProblemError(
        413,
        "payload-too-large",
        "Request body too large",
        `The request body is larger than the limit of ${maxSize} bytes. Downscale or recompress the image, or score fewer images per request.`,
      );
    },
  });
  return limit(c, next);
});
