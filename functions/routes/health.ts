// GET /healthz: liveness for load balancers and the test harness; it touches no model.
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";

export const healthRoutes = new Hono<AppEnv>().get("/healthz", (c) =>
  c.json({ status: "ok", service: "edgecap" }),
);
