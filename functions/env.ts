// The Worker's bindings and the per-request variables the middleware sets. The binding interfaces
// are the slices of the Workers runtime API that edgecap calls, so the code typechecks without
// the full @cloudflare/workers-types.

/** The static-assets binding (`[assets] binding = "ASSETS"`). */
export interface AssetsBinding {
  fetch(input: Request | string, init?: RequestInit): Promise<Response>;
}

/** Workers KV, as far as the embedding cache uses it. */
export interface KvNamespace {
  get(key: string, type: "arrayBuffer"): Promise<ArrayBuffer | null>;
  put(
    key: string,
    value: ArrayBuffer | ArrayBufferView | string,
    options?: { expirationTtl?: number; metadata?: unknown },
  ): Promise<void>;
}

/** The Workers rate-limiting binding (`[[ratelimits]]`). */
export interface RateLimitBinding {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

/** The Workers AI binding (`[ai] binding = "AI"`). */
export interface AiBinding {
  run(model: string, inputs: Record<string, unknown>): Promise<unknown>;
}

export interface Bindings {
  ASSETS?: AssetsBinding;
  EMBEDDINGS?: KvNamespace;
  RATE_LIMITER?: RateLimitBinding;
  AI?: AiBinding;
  /** Maximum request body in bytes; wrangler.toml [vars] sets it, the default applies when unset. */
  EDGECAP_MAX_BODY_BYTES?: string;
  /** Maximum images scored in one metrics request. */
  EDGECAP_MAX_METRIC_IMAGES?: string;
  /** Largest width x height of an uploaded image, checked before decoding. */
  EDGECAP_MAX_IMAGE_PIXELS?: string;
  /** Comma-separated package names or ids; the first one present is the default captioner. */
  EDGECAP_DEFAULT_CAPTIONER?: string;
  /** Comma-separated package names or ids; the first one present is the default CLIP model. */
  EDGECAP_DEFAULT_CLIP?: string;
  EDGECAP_CACHE_TTL_SECONDS?: string;
  EDGECAP_RATE_LIMIT_PERIOD_SECONDS?: string;
  /** Secret: the Bearer token of the routes that write to the embedding cache. */
  EDGECAP_API_KEY?: string;
  ALLOWED_ORIGINS?: string;
  LLAVA_BACKEND_KIND?: string;
  LLAVA_BASE_URL?: string;
  LLAVA_MODEL?: string;
  /** Secret: the Bearer token sent to the LLaVA backend. */
  LLAVA_API_KEY?: string;
  /** Milliseconds one LLaVA attempt may take before the request fails with 504. */
  LLAVA_TIMEOUT_MS?: string;
}

export interface Variables {
  requestId: string;
  /** Model id of the request, for the request log. */
  model?: string;
  /** Embedding cache status of the request ("hit", "miss", "off"), for the request log. */
  cache?: string;
}

export interface AppEnv {
  Bindings: Bindings;
  Variables: Variables;
}

/** Reads a positive integer limit from a string binding, falling back to the default. */
export function readLimit(value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const parsed = Number(value);
  return Number.isSafeInteger(parsed) && parsed > 0 ? parsed : fallback;
}

/** Splits a comma-separated binding into trimmed, non-empty entries. */
export function readList(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
}
