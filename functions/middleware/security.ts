// Security headers for every response (hono's secureHeaders: HSTS, nosniff, frame and referrer
// policies), plus a Content-Security-Policy that forbids everything for API responses. The report
// site under /report/ sets no CSP here, because its pages run their own scripts and styles, and
// /widget.js may be embedded by other origins, so its Cross-Origin-Resource-Policy is cross-origin.
import { createMiddleware } from "hono/factory";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "../env.ts";

const apiHeaders = secureHeaders({
  contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  xFrameOptions: "DENY",
});
const reportHeaders = secureHeaders();
const widgetHeaders = secureHeaders({ crossOriginResourcePolicy: "cross-origin" });

export const securityHeaders = createMiddleware<AppEnv>(async (c, next) => {
  const path = new URL(c.req.url).pathname;
  if (path === "/widget.js") return widgetHeaders(c, next);
  if (path === "/report" || path.startsWith("/report/")) return reportHeaders(c, next);
  return apiHeaders(c, next);
});
