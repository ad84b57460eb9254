// EmbeddingCache over Workers KV: values are encodeCachedTensor bytes stored with an expiration
// TTL. A value that does not decode is treated as a miss and logged, so a corrupt entry costs one
// recomputation instead of failing requests until it expires.
import {
  type CachedTensor,
  decodeCachedTensor,
  type EmbeddingCache,
  encodeCachedTensor,
} from "../../shared/runtime/embedding-cache.ts";
import type { KvNamespace } from "../env.ts";
import { logJson } from "../middleware/request-log.ts";

/** Workers KV rejects an expirationTtl below 60 seconds. */
export const KV_MIN_TTL_SECONDS = 60;

export class KvEmbeddingCache implements EmbeddingCache {
  readonly #namespace: KvNamespace;
  readonly #defaultTtlSeconds: number;

  constructor(namespace: KvNamespace, defaultTtlSeconds: number) {
    this.#namespace = namespace;
    this.#defaultTtlSeconds = defaultTtlSeconds;
  }

  async get(key: string): Promise<CachedTensor | null> {
    const bytes = await this.#namespace.get(key, "arrayBuffer");
    if (bytes === null) return null;
    try {
      return decodeCachedTensor(new Uint8Array(bytes));
    } catch (error) {
      logJson("warn", "embedding cache entry is invalid; recomputing it", {
        key,
        error: error instanceof Error ? error.message : String(error),
      });
      return null;
    }
  }

  async put(key: string, value: CachedTensor, ttlSeconds?: number): Promise<void> {
    const expirationTtl = Math.max(KV_MIN_TTL_SECONDS, ttlSeconds ?? this.#defaultTtlSeconds);
    await this.#namespace.put(key, encodeCachedTensor(value), { expirationTtl });
  }
}
