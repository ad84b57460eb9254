// The Hono application: middleware order is request id and log first (so every response, errors
// included, is logged), then security headers, then the routes. Errors become problem+json here.
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "./env.ts";
import { logJson, requestLog } from "./middleware/request-log.ts";
import { ProblemError, problemResponse } from "./problem.ts";
import { healthRoutes } from "./routes/health.ts";
import { metricsRoutes } from "./routes/metrics.ts";

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use("*", requestLog);
  app.use("*", secureHeaders());

  app.route("/", healthRoutes);
  app.route("/v1/metrics", metricsRoutes);

  app.notFound((c) =>
    problemResponse(
      c,
      404,
      "not-found",
      "Not found",
      `No route matches ${c.req.method} ${new URL(c.req.url).pathname}. See README.md for the API.`,
    ),
  );

  app.onError((error, c) => {
    if (error instanceof ProblemError) {
      const extra = error.errors === undefined ? {} : { errors: error.errors };
      return problemResponse(c, error.status, error.kind, error.title, error.message, extra);
    }
    if (error instanceof HTTPException) {
      return problemResponse(c, error.status, "invalid-request", "Invalid request", error.message);
    }
    logJson("error", "unhandled error", {
      request_id: c.get("requestId"),
      route: c.req.routePath,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
    return problemResponse(
      c,
      500,
      "internal-error",
      "Internal error",
      "The server failed to process this request. Quote the instance id when reporting it.",
    );
  });

  return app;
}
