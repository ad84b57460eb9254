// Per-client rate limiting through the Workers rate-limiting binding (`[[ratelimits]]`, simulated
// by miniflare under `wrangler dev` and in the workerd tests). The client key is a hash of the
// Bearer token when one is sent, else the connecting IP that Cloudflare puts in CF-Connecting-IP.
// Over the limit the request fails with 429 and Retry-After set to the binding's period.
import { createMiddleware } from "hono/factory";
import { sha256Hex } from "../../shared/image/hash.ts";
import { type AppEnv, readLimit } from "../env.ts";
import { ProblemError } from "../problem.ts";
import { logJson } from "./request-log.ts";

let missingBindingLogged = false;

async function clientKey(
  authorization: string | undefined,
  ip: string | undefined,
): Promise<string> {
  if (authorization?.startsWith("Bearer ")) {
    const digest = await sha256Hex(new TextEncoder().encode(authorization.slice(7)));
    return `key:${digest.slice(0, 32)}`;
  }
  return `ip:${ip ?? "unknown"}`;
}

export const rateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const limiter = c.env.RATE_LIMITER;
  if (c.req.method === "OPTIONS") return next();
  if (limiter === undefined) {
    if (!missingBindingLogged) {
      missingBindingLogged = true;
      logJson("warn", "RATE_LIMITER binding is missing; requests are not rate limited", {});
    }
    return next();
  }

  const key = await clientKey(c.req.header("authorization"), c.req.header("cf-connecting-ip"));
  const { success } = await limiter.limit({ key });
  if (!success) {
    const period = readLimit(c.env.EDGECAP_RATE_LIMIT_PERIOD_SECONDS, 60);
    throw new ProblemError(
      429,
      "rate-limited",
      "Too many requests",
      `This client sent more requests than the limit allows within ${period} seconds. Retry after ${period} seconds.`,
      undefined,
      { "retry-after": String(period) },
    );
  }
  return next();
});
