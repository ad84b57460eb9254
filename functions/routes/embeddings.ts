// PUT /v1/embeddings: stores precomputed embeddings in the KV cache (API key required). The body
// is the file `edgecap embeddings` writes, which `wrangler kv bulk put` also reads: a JSON array
// of {"key", "value" (base64 of encodeCachedTensor bytes), "base64": true, "expiration_ttl"}.
import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { decodeCachedTensor } from "../../shared/runtime/embedding-cache.ts";
import { KV_MIN_TTL_SECONDS } from "../cache/kv-embedding-cache.ts";
import { zodProblems } from "../captions/options-schema.ts";
import { type AppEnv, readLimit } from "../env.ts";
import { requireApiKey } from "../middleware/api-key.ts";
import { COMMON_ERRORS, problemResponse } from "../openapi-schemas.ts";
import { ProblemError, type ProblemField } from "../problem.ts";

/** Entries per request: each is one KV write, and a Worker invocation may make 1000 of them. */
export const MAX_ENTRIES_PER_REQUEST = 500;

const KEY_PATTERN = /^edgecap:(prefix|clip-image):[^:]+:[0-9a-f]{16}:pre[^:]+:[0-9a-f]{64}$/;

const entrySchema = z.object({
  key: z.string().regex(KEY_PATTERN, "must be an edgecap embedding cache key (embeddingCacheKey)"),
  value: z.string().min(1),
  base64: z.literal(true),
  expiration_ttl: z.number().int().min(KV_MIN_TTL_SECONDS).optional(),
});

const bodySchema = z
  .array(entrySchema)
  .min(1)
  .max(MAX_ENTRIES_PER_REQUEST, `at most ${MAX_ENTRIES_PER_REQUEST} entries per request`)
  .openapi("EmbeddingEntries");

function base64Bytes(text: string): Uint8Array | null {
  try {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return null;
  }
}

export function registerEmbeddingRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerPath({
    method: "put",
    path: "/v1/embeddings",
    summary: "Store precomputed embeddings in the cache",
    security: [{ bearerAuth: [] }],
    request: { body: { content: { "application/json": { schema: bodySchema } }, required: true } },
    responses: {
      200: {
        description: "The number of entries stored.",
        content: { "application/json": { schema: z.object({ stored: z.number().int() }) } },
      },
      ...COMMON_ERRORS,
      401: problemResponse("No Bearer token."),
      403: problemResponse("Wrong token, or no EDGECAP_API_KEY configured."),
      503: problemResponse("No EMBEDDINGS binding."),
    },
  });

  app.put("/v1/embeddings", requireApiKey, async (c) => {
    const namespace = c.env.EMBEDDINGS;
    if (namespace === undefined) {
      throw new ProblemError(
        503,
        "model-unavailable",
        "Cache unavailable",
        "The EMBEDDINGS KV binding is missing.",
      );
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch (error) {
      throw new ProblemError(
        400,
        "invalid-json",
        "Invalid JSON",
        `The request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}.`,
      );
    }
    const parsed = bodySchema.safeParse(body);
    if (!parsed.success) {
      const errors = zodProblems(parsed.error);
      throw new ProblemError(
        400,
        "validation-failed",
        "Invalid embedding entries",
        `${errors[0]?.path ?? ""}: ${errors[0]?.message ?? "invalid"}.`,
        errors,
      );
    }

    const problems: ProblemField[] = [];
    const values: Uint8Array[] = [];
    parsed.data.forEach((entry, index) => {
      const bytes = base64Bytes(entry.value);
      if (bytes === null) {
        problems.push({ path: `/${index}/value`, message: "is not valid base64" });
        return;
      }
      try {
        decodeCachedTensor(bytes);
        values.push(bytes);
      } catch (error) {
        problems.push({
          path: `/${index}/value`,
          message: error instanceof Error ? error.message : String(error),
        });
      }
    });
    if (problems.length > 0) {
      throw new ProblemError(
        400,
        "validation-failed",
        "Invalid embedding values",
        `${problems.length} entries do not hold edgecap tensors; nothing was stored.`,
        problems,
      );
    }

    const defaultTtl = readLimit(c.env.EDGECAP_CACHE_TTL_SECONDS, 604_800);
    await Promise.all(
      parsed.data.map((entry, index) =>
        namespace.put(entry.key, values[index] as Uint8Array, {
          expirationTtl: entry.expiration_ttl ?? defaultTtl,
        }),
      ),
    );
    c.set("cache", "write");
    return c.json({ stored: parsed.data.length });
  });
}
