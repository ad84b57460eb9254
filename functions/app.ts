// The Hono application: middleware order is request id and log first (so every response, errors
// included, is logged), then security headers, CORS, the rate limit and the body size limit, then
// the routes. Errors become problem+json here; the OpenAPI 3.1 document is at /v1/openapi.json.
import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { zodProblems } from "./captions/options-schema.ts";
import type { AppEnv } from "./env.ts";
import { toProblem } from "./errors/to-problem.ts";
import { createLlavaBackend, type LlavaBackendFactory } from "./llava/backend.ts";
import { maxBodySize } from "./middleware/body-limit.ts";
import { widgetCors } from "./middleware/cors.ts";
import { rateLimit } from "./middleware/rate-limit.ts";
import { logJson, requestLog } from "./middleware/request-log.ts";
import { securityHeaders } from "./middleware/security.ts";
import { ProblemError, problemResponse } from "./problem.ts";
import { registerCaptionRoutes } from "./routes/captions.ts";
import { registerClipScoreRoutes } from "./routes/clipscore.ts";
import { registerEmbeddingRoutes } from "./routes/embeddings.ts";
import { healthRoutes } from "./routes/health.ts";
import { registerMetricsRoutes } from "./routes/metrics.ts";
import { registerModelRoutes } from "./routes/models.ts";
import { reportRoutes } from "./routes/report.ts";
import { widgetRoutes } from "./routes/widget.ts";

export interface AppOptions {
  /** Builds the LLaVA backend per request; tests pass a fake. */
  llavaBackend?: LlavaBackendFactory;
}

export function createApp(options: AppOptions = {}): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (result.success) return;
      const errors = zodProblems(result.error);
      const first = errors[0];
      throw new ProblemError(
        400,
        "validation-failed",
        "Invalid request",
        first === undefined ? "The request is invalid." : `${first.path}: ${first.message}`,
        errors,
      );
    },
  });

  app.use("*", requestLog);
  app.use("*", securityHeaders);
  app.use("/v1/*", widgetCors);
  app.use("/widget.js", widgetCors);
  app.use("/v1/*", rateLimit);
  app.use("/v1/*", maxBodySize);

  app.route("/", healthRoutes);
  app.route("/", widgetRoutes);
  app.route("/", reportRoutes);
  registerModelRoutes(app);
  registerCaptionRoutes(app, options.llavaBackend ?? createLlavaBackend);
  registerMetricsRoutes(app);
  registerClipScoreRoutes(app);
  registerEmbeddingRoutes(app);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
  });
  app.doc31("/v1/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "edgecap",
      version: "1",
      description:
        "Image captioning at the edge. Errors are RFC 9457 problem+json documents. docs/api.md describes every route.",
    },
    servers: [{ url: "http://127.0.0.1:8787", description: "npm start" }],
  });

  app.notFound((c) =>
    problemResponse(
      c,
      404,
      "not-found",
      "Not found",
      `No route matches ${c.req.method} ${new URL(c.req.url).pathname}. GET /v1/openapi.json lists the routes.`,
    ),
  );

  app.onError((error, c) => {
    const problem = toProblem(error);
    if (problem !== null) {
      if (problem.status >= 500) {
        logJson("error", "request failed", {
          request_id: c.get("requestId"),
          route: c.req.routePath,
          status: problem.status,
          error: `${error.name}: ${error.message}`,
        });
      }
      const extra = problem.errors === undefined ? {} : { errors: problem.errors };
      return problemResponse(
        c,
        problem.status,
        problem.kind,
        problem.title,
        problem.message,
        extra,
        problem.headers,
      );
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
