// CORS for the widget: browsers on the origins in ALLOWED_ORIGINS (comma-separated, "*" for any)
// may call the API. Requests from other origins get no Access-Control-Allow-Origin header, so the
// browser blocks their responses; requests without an Origin header (curl, servers) are unaffected.

import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import { type AppEnv, readList } from "../env.ts";

export const widgetCors = createMiddleware<AppEnv>(async (c, next) => {
  const allowed = readList(c.env.ALLOWED_ORIGINS);
  const handler = cors({
    origin: (origin) => (allowed.includes("*") || allowed.includes(origin) ? origin : null),
    allowMethods: ["GET", "POST", "OPTIONS"],
    allowHeaders: ["Content-Type", "Authorization", "X-Request-Id"],
    exposeHeaders: ["X-Request-Id", "X-Edgecap-Cache", "Retry-After"],
    maxAge: 600,
  });
  return handler(c, next);
});
