// GET /widget.js: the embeddable widget, built by widget/ into widget/dist/edgecap-widget.js and
// copied by scripts/build-assets.mjs to the file imported here as text. Until the widget is
// built, that file is a placeholder and the route returns 503.
import { Hono } from "hono";
import widgetSource from "../../.edgecap/widget/edgecap-widget.js.txt";
import type { AppEnv } from "../env.ts";
import { ProblemError } from "../problem.ts";

const PLACEHOLDER_MARKER = "/* edgecap-widget: not built */";

export const widgetRoutes = new Hono<AppEnv>().get("/widget.js", (c) => {
  if (widgetSource.startsWith(PLACEHOLDER_MARKER)) {
    throw new ProblemError(
      503,
      "not-built",
      "Widget not built",
      "widget/dist/edgecap-widget.js did not exist when the assets were built. Build the widget, then run node scripts/build-assets.mjs and restart.",
    );
  }
  return c.body(widgetSource, 200, {
    "content-type": "text/javascript; charset=utf-8",
    "cache-control": "public, max-age=300",
  });
});
