// /report/: the report site (site/dist), served from the static assets. The Worker runs first
// (run_worker_first in wrangler.toml) so these responses also get the request log and headers.
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { ProblemError } from "../problem.ts";

export const reportRoutes = new Hono<AppEnv>()
  .get("/report", (c) => c.redirect("/report/", 301))
  .get("/report/*", async (c) => {
    const assets = c.env.ASSETS;
    if (assets === undefined) {
      throw new ProblemError(
        503,
        "not-built",
        "Report unavailable",
        "The ASSETS binding is missing.",
      );
    }
    const response = await assets.fetch(c.req.raw);
    if (response.status === 404) {
      throw new ProblemError(
        404,
        "not-found",
        "Not found",
        `${new URL(c.req.url).pathname} is not part of the report site. Build site/ and run node scripts/build-assets.mjs if it should be.`,
      );
    }
    return new Response(response.body, response);
  });
