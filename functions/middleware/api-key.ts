// Bearer authentication for the routes that write to the embedding cache. The token is compared
// with EDGECAP_API_KEY through SHA-256 digests and a constant-time loop, so response timing does
// not reveal how many leading characters matched. 401 without a token, 403 for a wrong one.
import { createMiddleware } from "hono/factory";
import { sha256Hex } from "../../shared/image/hash.ts";
import type { AppEnv } from "../env.ts";
import { ProblemError } from "../problem.ts";

function equalConstantTime(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

export const requireApiKey = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("authorization");
  if (header === undefined || !header.startsWith("Bearer ") || header.length === 7) {
    throw new ProblemError(
      401,
      "unauthorized",
      "API key required",
      "This route writes to the embedding cache. Send the API key as Authorization: Bearer <key>.",
      undefined,
      { "www-authenticate": 'Bearer realm="edgecap"' },
    );
  }
  const expected = c.env.EDGECAP_API_KEY;
  if (expected === undefined || expected === "") {
    throw new ProblemError(
      403,
      "forbidden",
      "Cache writes disabled",
      "The server has no EDGECAP_API_KEY secret, so no key is accepted. Set the secret to enable this route.",
    );
  }
  const encoder = new TextEncoder();
  const [given, wanted] = await Promise.all([
    sha256Hex(encoder.encode(header.slice(7))),
    sha256Hex(encoder.encode(expected)),
  ]);
  if (!equalConstantTime(given, wanted)) {
    throw new ProblemError(
      403,
      "forbidden",
      "Invalid API key",
      "The Bearer token does not match the server's API key. Check the key and try again.",
    );
  }
  return next();
});
